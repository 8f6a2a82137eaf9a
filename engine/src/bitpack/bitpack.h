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

// Packing with a per-channel threshold t (SignPack's optional input): bit c of
// a row is the sign of the float sum fl(x_c + t_c), by the same convention
// (bit 1 <=> fl(x_c + t_c) < 0; +0, -0 and NaN give 0). The fast variants
// compare x_c < -t_c instead of adding: with IEEE subnormals a float sum is 0
// only when x = -t exactly and otherwise has the sign of the exact sum (the
// exact sum of two floats is a multiple of the smallest subnormal, so it never
// rounds to 0), and a NaN or inf - inf sum goes with a false comparison.
using PackSignsThresholdFn = void (*)(const float* x, std::size_t rows, std::size_t channels,
                                      const float* threshold, BitWord* out);

// The plain reference: one float addition and one comparison per bit.
void pack_signs_threshold_ref(const float* x, std::size_t rows, std::size_t channels,
                              const float* threshold, BitWord* out);

// Plain C++ x < -t; also where the ARMv7 NEON variant falls back.
void pack_signs_threshold_portable(const float* x, std::size_t rows, std::size_t channels,
                                   const float* threshold, BitWord* out);

// A variant of the "bitpack" kernel family (cpu/kernel_config.h): both
// packings of one instruction set.
struct BitpackKernel {
  const char* name;     // e.g. "pack_signs_avx2"
  bool (*supported)();  // can this CPU run it
  PackSignsFn pack;
  PackSignsThresholdFn pack_threshold;
};

}  // namespace irnet
