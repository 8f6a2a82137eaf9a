// pack_signs_portable: branch-free packing in plain C++, and the pack_signs()
// entry point that dispatches to the selected "bitpack" kernel.
//
// Each bit is the 0/1 value of the comparison x < 0 shifted into place and
// OR-ed into the word: no per-bit branch, and a loop the compiler can
// vectorize. The comparison is the same predicate as the reference, so
// -0.0 and NaN give bit 0 there too.
#include "bitpack/bitpack.h"
#include "bitpack/bitpack_rows.h"
#include "cpu/kernel_registry.h"

namespace irnet {
namespace {

void pack_signs_portable(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  pack_rows_by_word(x, rows, channels, out, [](const float* src) {
    BitWord word = 0;
    for (int b = 0; b < kBitsPerWord; ++b) word |= BitWord(src[b] < 0.0f) << b;
    return word;
  });
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
