// ARMv7 NEON sign packing (see bitpack/bitpack.h for the bit convention).
#pragma once

#include "bitpack/bitpack.h"

namespace irnet {

void pack_signs_neon_a32(const float* x, std::size_t rows, std::size_t channels, BitWord* out);
void pack_signs_threshold_neon_a32(const float* x, std::size_t rows, std::size_t channels,
                                   const float* threshold, BitWord* out);

}  // namespace irnet
