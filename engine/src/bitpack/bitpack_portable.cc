// pack_signs_portable: branch-free packing in plain C++, and the pack_signs()
// entry point that dispatches to the selected "bitpack" kernel.
//
// Each bit is the 0/1 value of the comparison x < 0 shifted into place and
// OR-ed into the word: no per-bit branch, and a loop the compiler can
// vectorize. The comparison is the same predicate as the reference, so
// -0.0 and NaN give bit 0 there too.
#include "bitpack/bitpack.h"
#include "cpu/kernel_registry.h"

namespace irnet {
namespace {

void pack_signs_portable(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  const std::size_t full_words = channels / kBitsPerWord;
  const std::size_t tail = channels % kBitsPerWord;
  const std::size_t words = packed_words(channels);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* src = x + r * channels;
    BitWord* dst = out + r * words;
    for (std::size_t w = 0; w < full_words; ++w, src += kBitsPerWord) {
      BitWord word = 0;
      for (int b = 0; b < kBitsPerWord; ++b) word |= BitWord(src[b] < 0.0f) << b;
      dst[w] = word;
    }
    if (tail != 0) {
      BitWord word = 0;
      for (std::size_t b = 0; b < tail; ++b) word |= BitWord(src[b] < 0.0f) << b;
      dst[full_words] = word;
    }
  }
}

const KernelVariant kVariants[] = {
    {"pack_signs_portable", always_supported, as_kernel_fn(&pack_signs_portable)},
    {"pack_signs_ref", always_supported, as_kernel_fn(&pack_signs_ref)},
};
}  // namespace
extern const KernelTable kBitpackKernelsPortable = {kVariants, sizeof(kVariants) / sizeof(kVariants[0])};

void pack_signs(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  selected_kernel_fn<PackSignsFn>("bitpack")(x, rows, channels, out);
}

}  // namespace irnet
