// Bit-packing: the sign of each float becomes one bit.
//
// Convention (one for the whole engine, the converter and the .irb format):
//   bit = 1  <=>  value is -1  <=>  x < 0
//   bit = 0  <=>  value is +1  <=>  x >= 0, including +0, -0 and NaN.
// IR-Net's sign(0) is 0, which one bit cannot hold; the engine maps 0 to +1
// and the converter warns where a Sign input can be exactly zero by construction.
//
// A row of C channels packs into packed_words(C) 64-bit words (core/types.h):
// channel c is bit (c % 64) of word (c / 64). Tail bits past C in the last word
// are 0, so they XOR to 0 against weights (whose tail bits are 0 too) and never count.
// Activations are NHWC, so one row = the channels of one pixel.
#pragma once

#include <cstddef>

#include "core/types.h"

namespace irnet {

// Packs `rows` rows of `channels` floats (row stride = channels) into
// rows * packed_words(channels) words.
using PackSignsFn = void (*)(const float* x, std::size_t rows, std::size_t channels,
                             BitWord* out);

// The plain reference: one comparison per bit.
void pack_signs_ref(const float* x, std::size_t rows, std::size_t channels, BitWord* out);

// Runs the selected "bitpack" variant: the fastest this CPU supports unless
// overridden (force_kernel / IRNET_KERNELS, see cpu/kernel_registry.h).
void pack_signs(const float* x, std::size_t rows, std::size_t channels, BitWord* out);

}  // namespace irnet
