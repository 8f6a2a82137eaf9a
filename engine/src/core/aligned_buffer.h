// The engine's owned memory: a model file's bytes and a run's arena.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace irnet {

// Every AlignedBuffer starts on a multiple of kBufferAlign bytes, and the
// memory plan places every arena tensor and scratch area on one: a cache
// line, and the width of an AVX-512 register.
constexpr std::size_t kBufferAlign = 64;

// Owns a kBufferAlign-aligned byte buffer.
//
// Buffers of kHugePageBytes or more start on a kHugePageBytes boundary and,
// on Linux, are advised as transparent huge pages (MADV_HUGEPAGE): the first
// touch of each 2 MB then costs one page fault instead of 512, which is most
// of the cost of loading a model and of a first run on a fresh process (a
// 4 KB fault costs ~7 us on the development VM). Where huge pages are not
// available the advice is ignored and the buffer is a plain aligned allocation.
class AlignedBuffer {
 public:
  static constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

  AlignedBuffer() = default;
  // Throws irnet::Error (kInvalidArgument) naming `what` when the memory is not available.
  AlignedBuffer(std::size_t size, const char* what);
  std::uint8_t* data() { return data_.get(); }
  const std::uint8_t* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t alignment() const { return data_.get_deleter().alignment; }

 private:
  struct Free {
    std::size_t alignment;  // what operator new was given (value-initialized: 0, no buffer)
    void operator()(std::uint8_t* p) const;
  };
  std::unique_ptr<std::uint8_t, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace irnet
