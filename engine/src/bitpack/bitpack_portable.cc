// pack_signs_portable, pack_signs_threshold_portable: branch-free packing in
// plain C++, and the portable table of the "bitpack" family.
//
// Each bit is the 0/1 value of the comparison x < 0 shifted into place and
// OR-ed into the word: no per-bit branch, and a loop the compiler can
// vectorize. The comparison is the same predicate as the reference, so
// -0.0 and NaN give bit 0 there too. With a threshold the comparison is
// x < -t (bitpack.h says why that is the sign of fl(x + t)).
#include <iterator>

#include "bitpack/bitpack.h"
#include "bitpack/bitpack_rows.h"
#include "cpu/kernel_config.h"

namespace irnet {

void pack_signs_threshold_portable(const float* x, std::size_t rows, std::size_t channels,
                                   const float* threshold, BitWord* out) {
  pack_rows_by_word_threshold(x, rows, channels, threshold, out, [](const float* src, const float* t) {
    BitWord word = 0;
    for (int b = 0; b < kBitsPerWord; ++b) word |= BitWord(src[b] < -t[b]) << b;
    return word;
  });
}

namespace {

void pack_signs_portable(const float* x, std::size_t rows, std::size_t channels, BitWord* out) {
  pack_rows_by_word(x, rows, channels, out, [](const float* src) {
    BitWord word = 0;
    for (int b = 0; b < kBitsPerWord; ++b) word |= BitWord(src[b] < 0.0f) << b;
    return word;
  });
}

const BitpackKernel kPortable = {"pack_signs_portable", always_supported, &pack_signs_portable,
                                 &pack_signs_threshold_portable};
const BitpackKernel kRef = {"pack_signs_ref", always_supported, &pack_signs_ref, &pack_signs_threshold_ref};
const BitpackKernel* const kKernels[] = {&kPortable, &kRef};
}  // namespace
extern const KernelTable<BitpackKernel> kBitpackKernelsPortable = {kKernels, std::size(kKernels)};

}  // namespace irnet
