// The x86 bit-packing kernels (PackSignsFn), each in a file compiled with its ISA flags.
#pragma once

#include "bitpack/bitpack.h"

namespace irnet {

void pack_signs_avx2(const float* x, std::size_t rows, std::size_t channels, BitWord* out);
void pack_signs_avx512(const float* x, std::size_t rows, std::size_t channels, BitWord* out);

}  // namespace irnet
