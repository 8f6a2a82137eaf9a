// ARMv7 NEON: lane masks of 64 channels -> one packed word (bitpack.h order:
// channel c is bit c). Shared by the sign packing and BConv2d's fused epilogue.
//
// Eight channels at a time: their two registers of lane masks (all-ones = bit
// set) are narrowed to bytes (vmovn twice: one d register, byte i 0xFF or 0)
// and ANDed with the bit weights 2^i. Three vpadd.u8 levels over the eight
// d registers of a word then add neighbouring bytes: the weights are distinct
// powers of two, so each sum is the OR of its bits, and byte j of the final d
// register holds channels 8j..8j+7, which read little-endian is the word.
// 39 instructions per word beyond the masks.
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include "bitpack/bitpack.h"

namespace irnet {

// The weights 2^i of byte i.
inline uint8x8_t sign_byte_weights() {
  static const std::uint8_t kWeights[8] = {1, 2, 4, 8, 16, 32, 64, 128};
  return vld1_u8(kWeights);
}

// The masks of channels 8j..8j+3 (lo) and 8j+4..8j+7 (hi) as weighted bytes.
inline uint8x8_t weighted_sign_bytes(uint32x4_t lo, uint32x4_t hi, uint8x8_t weights) {
  const uint16x8_t mask16 = vcombine_u16(vmovn_u32(lo), vmovn_u32(hi));
  return vand_u8(vmovn_u16(mask16), weights);
}

// One word from eight_bytes(j), j = 0..7 in order: the weighted bytes of
// channels 8j..8j+7.
template <typename EightBytes>
inline BitWord pack_sign_word(EightBytes eight_bytes) {
  // The first two vpadd levels over eight_bytes(j0 .. j0 + 3), in call order.
  // (A loop over an array of level registers made gcc keep them on the stack.)
  const auto four = [&](int j0) {
    const uint8x8_t b0 = eight_bytes(j0);
    const uint8x8_t s01 = vpadd_u8(b0, eight_bytes(j0 + 1));
    const uint8x8_t b2 = eight_bytes(j0 + 2);
    return vpadd_u8(s01, vpadd_u8(b2, eight_bytes(j0 + 3)));
  };
  const uint8x8_t s03 = four(0);
  return vget_lane_u64(vreinterpret_u64_u8(vpadd_u8(s03, four(4))), 0);
}

}  // namespace irnet
