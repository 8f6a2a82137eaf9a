#include "core/aligned_buffer.h"

#include <limits>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/check.h"

namespace irnet {

AlignedBuffer::AlignedBuffer(std::size_t size, const char* what) : size_(size) {
  const bool huge = size >= kHugePageBytes;
  // Huge buffers are allocated in whole huge pages, so that the last one is not shared.
  const std::size_t alignment = huge ? kHugePageBytes : kBufferAlign;
  const std::size_t bytes = huge ? (size <= std::numeric_limits<std::size_t>::max() - (alignment - 1)
                                        ? (size + alignment - 1) / alignment * alignment
                                        : 0)
                                 : (size == 0 ? 1 : size);
  // Sizes come from (validated but untrusted) model files: running out of
  // memory is a reportable error, not a std::bad_alloc escaping the API.
  void* p = bytes == 0 ? nullptr : ::operator new(bytes, std::align_val_t{alignment}, std::nothrow);
  if (p == nullptr) fail(ErrorKind::kInvalidArgument, "cannot allocate ", size, " bytes for ", what);
  data_ = std::unique_ptr<std::uint8_t, Free>(static_cast<std::uint8_t*>(p), Free{alignment});
#ifdef MADV_HUGEPAGE
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);  // advice only: failure leaves 4 KB pages
#endif
}

void AlignedBuffer::Free::operator()(std::uint8_t* p) const {
  ::operator delete(p, std::align_val_t{alignment});
}

}  // namespace irnet
