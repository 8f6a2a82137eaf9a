// The x86 bit-packing kernels (PackSignsFn), each in a file compiled with its ISA flags.
#pragma once

#include "bitpack/bitpack.h"

namespace irnet {

void pack_signs_avx2(const float* x, std::size_t rows, std::size_t channels, BitWord* out);
void pack_signs_avx512(const float* x, std::size_t rows, std::size_t channels, BitWord* out);
// PackSignsThresholdFn variants.
void pack_signs_threshold_avx2(const float* x, std::size_t rows, std::size_t channels,
                               const float* threshold, BitWord* out);
void pack_signs_threshold_avx512(const float* x, std::size_t rows, std::size_t channels,
                                 const float* threshold, BitWord* out);

}  // namespace irnet
