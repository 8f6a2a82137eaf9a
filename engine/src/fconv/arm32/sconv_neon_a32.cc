// ARMv7 NEON direct kernels for 3- and 7-wide, column-stride-2 float
// convolutions on column-phase planes (layout and math: fconv/phase_conv.h),
// one template of the kernel width KW.
//
// One call: up to 8 output pixels x all output channels, one tile of 4
// channels at a time, the channels in the vector lanes: accumulator acc[p]
// holds the 4 channels of pixel p. Tap t of an (i, c) pair multiplies the
// tap's 4 channel weights (one q register) by each pixel's input float, taken
// by element (vmla.f32 q, q, d[lane]):
//   acc[p] += w_t * x_phase[q + p + k]   (k = t on phase 0 for its T0 = (KW + 1) / 2
//                                         taps, k = t - T0 on phase 1)
// So the 8 pixels x T taps of a phase read floats q .. q + 6 + T: three q
// registers q + 0, q + 4 and q + 3 + T, the last overlapping so that no load
// passes the plane contract of phase_conv.h (two when 6 + T < 8: KW = 3's one
// phase-1 tap). KW = 7: phase 0 reads q .. q + 10 (q + 0, 4, 7), phase 1
// q .. q + 9 (q + 0, 4, 6): per pair 6 input and 7 weight loads for 56
// multiply-accumulates; KW = 3: 5 input and 3 weight loads for 24. ARMv7 has
// 16 q registers: 8 accumulators, 3 inputs, 1 weight; the by-element operand
// must be in d0-d15, which the compiler's allocation of the inputs respects.
//
// ARMv7 NEON has no fused multiply-add by element: vmla rounds the product,
// then the sum (PhaseConvKernel::fused = false; the order is phase_conv.h's).
// Like every ARMv7 NEON float kernel here (sgemm_neon_a32.cc) it also flushes
// subnormal inputs and results to zero: within the float convs' contract of
// the reference up to rounding (conv2d_f32.h).
// Epilogue: + bias, clamp (max then min, the reference's order), one 16-byte
// store per pixel.
#include <arm_neon.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>

#include "cpu/kernel_config.h"
#include "fconv/phase_conv.h"

namespace irnet {
namespace {

constexpr std::size_t kTilePixels = 8;
constexpr std::size_t kTileChannels = kPhaseTileChannels;  // 4

// acc + w * input float k of a phase held in three registers: a = floats
// 0..3, b = 4..7, c = third..third+3 (only k >= 8 is taken from c), as the d
// register and lane that a by-element vmla takes.
template <int k, int third>
inline float32x4_t mla_element(float32x4_t acc, float32x4_t w, float32x4_t a, float32x4_t b, float32x4_t c) {
  if constexpr (k < 4) {
    return vmlaq_lane_f32(acc, w, k < 2 ? vget_low_f32(a) : vget_high_f32(a), k % 2);
  } else if constexpr (k < 8) {
    return vmlaq_lane_f32(acc, w, k < 6 ? vget_low_f32(b) : vget_high_f32(b), k % 2);
  } else {
    constexpr int j = k - third;
    return vmlaq_lane_f32(acc, w, j < 2 ? vget_low_f32(c) : vget_high_f32(c), j % 2);
  }
}

// 4 floats at p, then p += step_bytes: one post-indexed vld1 (ARMv7's vld1 has
// no immediate offset, so indexed loads cost gcc an address add each).
inline float32x4_t load_4_step(const float*& p, std::ptrdiff_t step_bytes) {
  float32x4_t v;
  __asm__("vld1.32 {%q0}, [%1], %2"
          : "=w"(v), "+r"(p)
          : "r"(step_bytes), "m"(*reinterpret_cast<const float(*)[4]>(p)));
  return v;
}
// 4 floats at p, then p += 4.
inline float32x4_t load_4_advance(const float*& p) {
  float32x4_t v;
  __asm__("vld1.32 {%q0}, [%1]!" : "=w"(v), "+r"(p) : "m"(*reinterpret_cast<const float(*)[4]>(p)));
  return v;
}

// The 8 accumulators += tap weights w times the input floats k0 .. k0 + 7 of
// a phase (registers a, b, c as in mla_element).
template <int k0, int third>
inline void mla_tap(float32x4_t (&acc)[kTilePixels], float32x4_t w, float32x4_t a, float32x4_t b, float32x4_t c) {
  acc[0] = mla_element<k0 + 0, third>(acc[0], w, a, b, c);
  acc[1] = mla_element<k0 + 1, third>(acc[1], w, a, b, c);
  acc[2] = mla_element<k0 + 2, third>(acc[2], w, a, b, c);
  acc[3] = mla_element<k0 + 3, third>(acc[3], w, a, b, c);
  acc[4] = mla_element<k0 + 4, third>(acc[4], w, a, b, c);
  acc[5] = mla_element<k0 + 5, third>(acc[5], w, a, b, c);
  acc[6] = mla_element<k0 + 6, third>(acc[6], w, a, b, c);
  acc[7] = mla_element<k0 + 7, third>(acc[7], w, a, b, c);
}

// The accumulators += taps t0 .. t0 + sizeof...(k) - 1 of a phase (inputs a,
// b, c as in mla_element), tap t0 + k at floats k .. k + 7, each tap's weights
// loaded from w (walked on).
template <int third, int... k>
inline void mla_taps(float32x4_t (&acc)[kTilePixels], const float*& w, float32x4_t a, float32x4_t b, float32x4_t c,
                     std::integer_sequence<int, k...>) {
  (mla_tap<k, third>(acc, load_4_advance(w), a, b, c), ...);
}

template <int KW>
void sconv_x2_4x8_neon_a32(const float* x, std::size_t steps, std::size_t plane_w, const float* w,
                           const float* bias, float lo, float hi, float* y, std::size_t ldc,
                           std::size_t pixels, std::size_t channels) {
  constexpr int taps0 = phase0_taps(KW), taps1 = KW - taps0;
  // The third input register of each phase (floats third .. third + 3, see above).
  constexpr int third0 = 3 + taps0, third1 = 3 + taps1;
  const std::size_t pair = 2 * plane_w;  // floats from one (i, c) pair to the next
  const float32x4_t lo_v = vdupq_n_f32(lo), hi_v = vdupq_n_f32(hi);
  float tile[kTilePixels * kTileChannels];
  for (std::size_t o0 = 0; o0 < channels; o0 += kTileChannels, bias += kTileChannels) {
    float32x4_t acc[kTilePixels];
    for (float32x4_t& a : acc) a = vdupq_n_f32(0.f);
    // Per pair: phase 0 at floats 0, 4, third0 (then on to the next pair's
    // phase 0), phase 1 at floats 0, 4 (and third1); the weights in order.
    const std::ptrdiff_t to_next_pair = static_cast<std::ptrdiff_t>(pair - third0) * 4;
    const std::ptrdiff_t to_third0 = (third0 - 4) * 4, to_third1 = (third1 - 4) * 4;
    const float* phase0 = x;
    for (std::size_t s = 0; s < steps; ++s) {
      const float* phase1 = phase0 + plane_w;
      const float32x4_t a0 = load_4_advance(phase0), b0 = load_4_step(phase0, to_third0),
                        c0 = load_4_step(phase0, to_next_pair);
      mla_taps<third0>(acc, w, a0, b0, c0, std::make_integer_sequence<int, taps0>());
      const float32x4_t a1 = load_4_advance(phase1);
      if constexpr (third1 + 3 < 8) {  // floats 0 .. 7: no third register
        const float32x4_t b1 = vld1q_f32(phase1);
        mla_taps<third1>(acc, w, a1, b1, b1, std::make_integer_sequence<int, taps1>());
      } else {
        const float32x4_t b1 = load_4_step(phase1, to_third1), c1 = vld1q_f32(phase1);
        mla_taps<third1>(acc, w, a1, b1, c1, std::make_integer_sequence<int, taps1>());
      }
    }
    const float32x4_t b = vld1q_f32(bias);
    for (float32x4_t& a : acc) a = vminq_f32(vmaxq_f32(vaddq_f32(a, b), lo_v), hi_v);
    const std::size_t cols = std::min(kTileChannels, channels - o0);
    if (pixels == kTilePixels && cols == kTileChannels) {
      for (std::size_t p = 0; p < kTilePixels; ++p) vst1q_f32(y + p * ldc + o0, acc[p]);
      continue;
    }
    for (std::size_t p = 0; p < kTilePixels; ++p) vst1q_f32(tile + p * kTileChannels, acc[p]);
    for (std::size_t p = 0; p < pixels; ++p)
      for (std::size_t o = 0; o < cols; ++o) y[p * ldc + o0 + o] = tile[p * kTileChannels + o];
  }
}

// The planes of one padded row: the plain loop.
void split_phase_row_a32(const float* row, int in_w, int channels, int pad_left, std::size_t plane_w,
                         float* planes) {
  split_phase_columns(row, in_w, channels, pad_left, plane_w, 0, plane_w, planes);
}

const PhaseConvKernel kNeonA32 = {"phase_conv_4x8_neon_a32",
                                  always_supported,
                                  {{"sconv_3x2_4x8_neon_a32", &sconv_x2_4x8_neon_a32<3>},
                                   {"sconv_7x2_4x8_neon_a32", &sconv_x2_4x8_neon_a32<7>}},
                                  &split_phase_row_a32,
                                  kTilePixels,
                                  /*fused=*/false};
const PhaseConvKernel* const kKernels[] = {&kNeonA32};

}  // namespace

extern const KernelTable<PhaseConvKernel> kPhaseConvKernelsArm32 = {kKernels, std::size(kKernels)};

}  // namespace irnet
