// AArch64 NEON fused epilogue rows: 4 channels per q register, one pass per row.
//
// Per 16 channels: one post-indexed ld1 of four registers each for the
// popcounts, bases, multipliers, biases (and residuals); per 4 channels
// acc = base - 2 * popcount (mls), scvtf, fmul by the exact multiplier, fadd
// bias, (fadd residual), (clamp), store y (two stp; rows with min/max clamping,
// floats and bits: the max lands in four consecutive registers, one st1), fcmlt
// #0 for the bits.
// Bits: the 16 lane masks of 16 channels are narrowed to 16 bytes by one tbl
// from the four mask registers (byte 0 of each lane), ANDed with the bit
// weights 2^(c % 8), and 64 channels are summed into one word by three
// levels of pairwise adds: 13 instructions per word beyond the 16 fcmlt.
// Threshold rows (bits only, no residual): acc as above, mul by dir, cmgt
// against limit, the same narrowing and word sums.
// Activation rows go on after the clamp with z = y + shift_in (fadd), z < 0 ?
// z * slope : z (fmul, fcmlt #0, bit; with every slope in (0, 1] fmul, fmax:
// z * slope >= z for z < 0 and <= z otherwise, and the signed zeros,
// infinities and the NaN operand come out alike), y = z + shift_out (fadd), and their
// bits are fcmgt -threshold > y; their residual pointer goes back to the row's
// first residual after C_r channels (a multiple of 16: cmp, csel per step).
// Channels past the last full 64-channel word (float-only rows: past the last
// full 16-channel step) run through the same IEEE operations one channel at a time.
// No FMA anywhere: the product is rounded before the bias is added, as in the reference.
#include "bconv/arm64/bconv_epilogue_neon_a64.h"

#include <arm_neon.h>

#include <iterator>

#include "bconv/bconv_epilogue_row.h"
#include "cpu/kernel_config.h"

namespace irnet {
namespace {

constexpr int kStep = 16;  // channels per step: four q registers

// 16 values from p as one post-incremented ld1 of four consecutive q
// registers, p += 16 (gcc computes a separate address per load otherwise,
// and its vld1q_*_x4 loads into fixed registers and copies them out).
template <typename Tuple, typename T>
inline Tuple load_16_advance(const T*& p) {
  Tuple v;
  __asm__("ld1 {%S0.4s - %V0.4s}, [%1], #64"
          : "=w"(v), "+r"(p)
          : "m"(*reinterpret_cast<const T(*)[16]>(p)));
  return v;
}

// acc = base - 2 * popcount of 16 channels: the bases as one post-incremented
// ld1 of four registers, base += 16, each register the accumulator of an mls
// (written out: gcc copies registers of a loaded tuple before overwriting them).
inline int32x4x4_t accumulators_16_advance(const std::int32_t*& base, const int32x4x4_t& popcounts,
                                           int32x4_t two) {
  int32x4x4_t acc;
  __asm__(
      "ld1 {%S0.4s - %V0.4s}, [%1], #64\n\t"
      "mls %S0.4s, %S3.4s, %4.s[0]\n\t"
      "mls %T0.4s, %T3.4s, %4.s[0]\n\t"
      "mls %U0.4s, %U3.4s, %4.s[0]\n\t"
      "mls %V0.4s, %V3.4s, %4.s[0]"
      : "=&w"(acc), "+r"(base)
      : "m"(*reinterpret_cast<const std::int32_t(*)[16]>(base)), "w"(popcounts), "w"(two));
  return acc;
}

// Reads the inputs of consecutive rows in order, 16 channels (next_16) or one
// (next_1) at a time, and returns their y; its pointers advance with each call.
// Popcounts and residuals run on from row to row (activation rows: residuals
// of C_r channels, repeated); start_row points the per-channel arrays back at
// channel 0 with the new row's base.
template <bool kResidual, EpilogueClamp kClamp, bool kActivation>
class FloatRowReader {
 public:
  FloatRowReader(const EpilogueConstants& c, const std::int32_t* popcounts, const float* residual)
      : popcounts_(popcounts), residual_(residual), residual_row_(residual), multiplier0_(c.multiplier),
        bias0_(c.bias), act0_{c.act_shift_in, c.act_slope, c.act_shift_out, c.neg_threshold},
        residual_channels_(c.residual_channels), lo_(c.clamp_lo), hi_(c.clamp_hi),
        lo4_(vdupq_n_f32(c.clamp_lo)), hi4_(vdupq_n_f32(c.clamp_hi)), two_(vdupq_n_s32(2)) {}

  void start_row(const std::int32_t* base) {
    base_ = base;
    multiplier_ = multiplier0_;
    bias_ = bias0_;
    if (kActivation) {
      for (int k = 0; k < 4; ++k) act_[k] = act0_[k];
      if (kResidual) {
        residual_ = residual_row_;
        residual_end_ = residual_row_ + residual_channels_;
        residual_row_ = residual_end_;
      }
    }
  }

  // y of the next 16 channels before the activation stage (always inlined: as
  // a call it costs more than it does).
  __attribute__((always_inline)) float32x4x4_t next_16() {
    float32x4x4_t y = next_16_but_max();
    if (kClamp == EpilogueClamp::kMinMax)
      for (int l = 0; l < 4; ++l) y.val[l] = vmaxq_f32(y.val[l], lo4_);
    return y;
  }

  // y of the next 16 channels, with min/max clamping still to take the max
  // with lo4() (so that it can write y where an st1 stores it from).
  __attribute__((always_inline)) float32x4x4_t next_16_but_max() {
    const int32x4x4_t p = load_16_advance<int32x4x4_t>(popcounts_);
    const int32x4x4_t acc = accumulators_16_advance(base_, p, two_);
    const float32x4x4_t m = load_16_advance<float32x4x4_t>(multiplier_);
    const float32x4x4_t c = load_16_advance<float32x4x4_t>(bias_);
    float32x4x4_t r;
    if (kResidual) r = load_16_advance<float32x4x4_t>(residual_);
    if (kActivation && kResidual && residual_ == residual_end_) residual_ -= residual_channels_;
    float32x4x4_t y;
    for (int l = 0; l < 4; ++l) {
      float32x4_t v = vmulq_f32(vcvtq_f32_s32(acc.val[l]), m.val[l]);
      v = vaddq_f32(v, c.val[l]);
      if (kResidual) v = vaddq_f32(v, r.val[l]);
      if (kClamp == EpilogueClamp::kMinMax) v = vminq_f32(v, hi4_);
      if (kClamp == EpilogueClamp::kSelect) {
        v = vbslq_f32(vcltq_f32(v, lo4_), lo4_, v);
        v = vbslq_f32(vcgtq_f32(v, hi4_), hi4_, v);
      }
      y.val[l] = v;
    }
    return y;
  }

  // Activation rows: the pointers to the next shift_in, slope, shift_out and
  // -threshold (the activation step reads and advances them).
  const float** activation_pointers() { return act_; }

  float32x4_t lo4() const { return lo4_; }
  static constexpr EpilogueClamp kClampKind = kClamp;
  static constexpr bool kActivationRows = kActivation;

  // y of the next channel and whether its bit is set.
  float next_1(bool* bit) {
    float v = static_cast<float>(*base_ - 2 * *popcounts_) * *multiplier_;
    v = v + *bias_;
    if (kResidual) v = v + *residual_;
    if (kClamp != EpilogueClamp::kNone) v = epilogue_clamp(v, lo_, hi_);
    if (kActivation) v = epilogue_activation(v, *act_[0], *act_[1], *act_[2]);
    *bit = kActivation ? v < *act_[3] : v < 0.f;
    popcounts_ += 1, base_ += 1, multiplier_ += 1, bias_ += 1;
    if (kResidual) residual_ += 1;
    if (kActivation) {
      for (int k = 0; k < 4; ++k) act_[k] += 1;
      if (kResidual && residual_ == residual_end_) residual_ -= residual_channels_;
    }
    return v;
  }

 private:
  const std::int32_t* popcounts_;
  const float* residual_;
  const float* residual_row_;             // activation rows: the next row's residuals
  const float* residual_end_ = nullptr;   // activation rows: the end of this row's residuals
  const float* const multiplier0_;
  const float* const bias0_;
  const float* const act0_[4];  // shift_in, slope, shift_out, -threshold
  const int residual_channels_;
  const std::int32_t* base_ = nullptr;
  const float* multiplier_ = nullptr;
  const float* bias_ = nullptr;
  const float* act_[4] = {};
  float lo_, hi_;
  float32x4_t lo4_, hi4_;
  int32x4_t two_;
};

// The bytes of the tbl that narrows four registers of lane masks (all-ones =
// bit set) of 16 consecutive channels to 16 bytes: byte 0 of each lane.
inline uint8x16_t lane_byte_index() {
  static const std::uint8_t kIndex[16] = {0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60};
  return vld1q_u8(kIndex);
}

// The sign bytes of 16 channels y: y < 0 (fcmlt #0: false for -0 and NaN)
// into four consecutive registers, narrowed by one tbl (written out: gcc
// would compute the masks elsewhere and copy them into the tbl's registers).
inline uint8x16_t negative_bytes(const float32x4x4_t& y, uint8x16_t index) {
  uint8x16x4_t masks;
  uint8x16_t bytes;
  __asm__(
      "fcmlt %S0.4s, %2.4s, #0.0\n\t"
      "fcmlt %T0.4s, %3.4s, #0.0\n\t"
      "fcmlt %U0.4s, %4.4s, #0.0\n\t"
      "fcmlt %V0.4s, %5.4s, #0.0\n\t"
      "tbl %1.16b, {%S0.16b - %V0.16b}, %6.16b"
      : "=&w"(masks), "=w"(bytes)
      : "w"(y.val[0]), "w"(y.val[1]), "w"(y.val[2]), "w"(y.val[3]), "w"(index));
  return bytes;
}

// 64 channel mask bytes (4 x 16) -> the word whose bit c is channel c.
inline BitWord pack_word(uint8x16_t b0, uint8x16_t b1, uint8x16_t b2, uint8x16_t b3, uint8x16_t weights) {
  const uint8x16_t s01 = vpaddq_u8(vandq_u8(b0, weights), vandq_u8(b1, weights));
  const uint8x16_t s23 = vpaddq_u8(vandq_u8(b2, weights), vandq_u8(b3, weights));
  const uint8x16_t s = vpaddq_u8(s01, s23);
  return vgetq_lane_u64(vreinterpretq_u64_u8(vpaddq_u8(s, s)), 0);
}

inline uint8x16_t bit_weights() {
  static const std::uint8_t kWeights[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  return vld1q_u8(kWeights);
}

// y to out, out += 16 (as two stp: an st1 would need y in four consecutive registers).
inline void store_16_advance(float*& out, const float32x4x4_t& y) {
  for (int l = 0; l < 4; ++l) vst1q_f32(out + 4 * l, y.val[l]);
  out += kStep;
}

// y = max(v, lo) of 16 channels into four consecutive registers, stored to
// out by one post-indexed st1 (out += 16), and its sign bytes as in
// negative_bytes: one asm, so that no register tuple crosses statements
// (gcc then copies or spills them).
inline uint8x16_t max_store_negative_bytes(const float32x4x4_t& v, float32x4_t lo, float*& out,
                                           uint8x16_t index) {
  float32x4x4_t y;
  uint8x16x4_t masks;
  uint8x16_t bytes;
  __asm__(
      "fmax %S0.4s, %5.4s, %9.4s\n\t"
      "fmax %T0.4s, %6.4s, %9.4s\n\t"
      "fmax %U0.4s, %7.4s, %9.4s\n\t"
      "fmax %V0.4s, %8.4s, %9.4s\n\t"
      "st1 {%S0.4s - %V0.4s}, [%3], #64\n\t"
      "fcmlt %S1.4s, %S0.4s, #0.0\n\t"
      "fcmlt %T1.4s, %T0.4s, #0.0\n\t"
      "fcmlt %U1.4s, %U0.4s, #0.0\n\t"
      "fcmlt %V1.4s, %V0.4s, #0.0\n\t"
      "tbl %2.16b, {%S1.16b - %V1.16b}, %10.16b"
      : "=&w"(y), "=&w"(masks), "=w"(bytes), "+r"(out), "=m"(*reinterpret_cast<float(*)[16]>(out))
      : "w"(v.val[0]), "w"(v.val[1]), "w"(v.val[2]), "w"(v.val[3]), "w"(lo), "w"(index));
  return bytes;
}

// The activation stage of 16 channels v into four consecutive registers y,
// from one ld1 each of shift_in, slope, shift_out (p[0..2], advanced):
// y = v + shift_in; t = y * slope; y = y < 0 ? t : y (IRNET_PRELU_SELECT_16:
// fcmlt, bit; IRNET_PRELU_MAX_16: fmax); y += shift_out.
#define IRNET_PRELU_SELECT_16                                \
  "fcmlt %S[m].4s, %S[y].4s, #0.0\n\t"                     \
  "fcmlt %T[m].4s, %T[y].4s, #0.0\n\t"                     \
  "fcmlt %U[m].4s, %U[y].4s, #0.0\n\t"                     \
  "fcmlt %V[m].4s, %V[y].4s, #0.0\n\t"                     \
  "bit %S[y].16b, %S[t].16b, %S[m].16b\n\t"                \
  "bit %T[y].16b, %T[t].16b, %T[m].16b\n\t"                \
  "bit %U[y].16b, %U[t].16b, %U[m].16b\n\t"                \
  "bit %V[y].16b, %V[t].16b, %V[m].16b\n\t"
#define IRNET_PRELU_MAX_16                                   \
  "fmax %S[y].4s, %S[y].4s, %S[t].4s\n\t"                  \
  "fmax %T[y].4s, %T[y].4s, %T[t].4s\n\t"                  \
  "fmax %U[y].4s, %U[y].4s, %U[t].4s\n\t"                  \
  "fmax %V[y].4s, %V[y].4s, %V[t].4s\n\t"
#define IRNET_ACTIVATION_16(PRELU)                           \
  "ld1 {%S[t].4s - %V[t].4s}, [%[p0]], #64\n\t"            \
  "fadd %S[y].4s, %[v0].4s, %S[t].4s\n\t"                  \
  "fadd %T[y].4s, %[v1].4s, %T[t].4s\n\t"                  \
  "fadd %U[y].4s, %[v2].4s, %U[t].4s\n\t"                  \
  "fadd %V[y].4s, %[v3].4s, %V[t].4s\n\t"                  \
  "ld1 {%S[t].4s - %V[t].4s}, [%[p1]], #64\n\t"            \
  "fmul %S[t].4s, %S[y].4s, %S[t].4s\n\t"                  \
  "fmul %T[t].4s, %T[y].4s, %T[t].4s\n\t"                  \
  "fmul %U[t].4s, %U[y].4s, %U[t].4s\n\t"                  \
  "fmul %V[t].4s, %V[y].4s, %V[t].4s\n\t"                  \
  PRELU                                                      \
  "ld1 {%S[t].4s - %V[t].4s}, [%[p2]], #64\n\t"            \
  "fadd %S[y].4s, %S[y].4s, %S[t].4s\n\t"                  \
  "fadd %T[y].4s, %T[y].4s, %T[t].4s\n\t"                  \
  "fadd %U[y].4s, %U[y].4s, %U[t].4s\n\t"                  \
  "fadd %V[y].4s, %V[y].4s, %V[t].4s\n\t"
// Then the bytes of y < -threshold (one ld1 from p[3], advanced; fcmgt: false
// for NaN), narrowed as in negative_bytes.
#define IRNET_BELOW_THRESHOLD_16                             \
  "ld1 {%S[t].4s - %V[t].4s}, [%[p3]], #64\n\t"            \
  "fcmgt %S[m].4s, %S[t].4s, %S[y].4s\n\t"                 \
  "fcmgt %T[m].4s, %T[t].4s, %T[y].4s\n\t"                 \
  "fcmgt %U[m].4s, %U[t].4s, %U[y].4s\n\t"                 \
  "fcmgt %V[m].4s, %V[t].4s, %V[y].4s\n\t"                 \
  "tbl %[bytes].16b, {%S[m].16b - %V[m].16b}, %[index].16b"

// The activation stage of 16 channels v, then y stored to out (out += 16,
// kStoreFloat) and its threshold bytes returned (kBits): one asm, so that no
// register tuple crosses statements (gcc then copies or spills them).
// The operands of the three asm forms below.
#define IRNET_ACTIVATION_INPUTS                                                                           \
  [v0] "w"(v.val[0]), [v1] "w"(v.val[1]), [v2] "w"(v.val[2]), [v3] "w"(v.val[3]),                         \
      "m"(*reinterpret_cast<const float(*)[16]>(p[0])), "m"(*reinterpret_cast<const float(*)[16]>(p[1])), \
      "m"(*reinterpret_cast<const float(*)[16]>(p[2]))
#define IRNET_ACTIVATION_ASM(PRELU)                                                                             \
  if (kStoreFloat && kBits)                                                                                     \
    __asm__(IRNET_ACTIVATION_16(PRELU) "st1 {%S[y].4s - %V[y].4s}, [%[out]], #64\n\t" IRNET_BELOW_THRESHOLD_16 \
            : [y] "=&w"(y), [t] "=&w"(t), [m] "=&w"(m), [bytes] "=w"(bytes), [out] "+r"(out), [p0] "+r"(p[0]),  \
              [p1] "+r"(p[1]), [p2] "+r"(p[2]), [p3] "+r"(p[3]), "=m"(*reinterpret_cast<float(*)[16]>(out))      \
            : IRNET_ACTIVATION_INPUTS, [index] "w"(index), "m"(*reinterpret_cast<const float(*)[16]>(p[3])));   \
  else if (kBits)                                                                                               \
    __asm__(IRNET_ACTIVATION_16(PRELU) IRNET_BELOW_THRESHOLD_16                                                  \
            : [y] "=&w"(y), [t] "=&w"(t), [m] "=&w"(m), [bytes] "=w"(bytes), [p0] "+r"(p[0]), [p1] "+r"(p[1]),  \
              [p2] "+r"(p[2]), [p3] "+r"(p[3])                                                                  \
            : IRNET_ACTIVATION_INPUTS, [index] "w"(index), "m"(*reinterpret_cast<const float(*)[16]>(p[3])));   \
  else                                                                                                          \
    __asm__(IRNET_ACTIVATION_16(PRELU) "st1 {%S[y].4s - %V[y].4s}, [%[out]], #64"                                \
            : [y] "=&w"(y), [t] "=&w"(t), [m] "=&w"(m), [out] "+r"(out), [p0] "+r"(p[0]), [p1] "+r"(p[1]),      \
              [p2] "+r"(p[2]), "=m"(*reinterpret_cast<float(*)[16]>(out))                                        \
            : IRNET_ACTIVATION_INPUTS)

template <bool kStoreFloat, bool kBits, bool kPreluMax>
__attribute__((always_inline)) inline uint8x16_t activation_16(const float32x4x4_t& v, const float** p, float*& out,
                                                               uint8x16_t index) {
  float32x4x4_t y, t;
  uint8x16x4_t m;  // unused by the max form
  uint8x16_t bytes = index;
  if (kPreluMax) {
    IRNET_ACTIVATION_ASM(IRNET_PRELU_MAX_16);
  } else {
    IRNET_ACTIVATION_ASM(IRNET_PRELU_SELECT_16);
  }
  return bytes;
}
#undef IRNET_ACTIVATION_ASM
#undef IRNET_ACTIVATION_INPUTS
#undef IRNET_ACTIVATION_16
#undef IRNET_PRELU_MAX_16
#undef IRNET_PRELU_SELECT_16
#undef IRNET_BELOW_THRESHOLD_16

// The next 16 channels: y stored (when kStoreFloat), sign bytes returned.
template <bool kStoreFloat, bool kPreluMax, typename Reader>
__attribute__((always_inline)) inline uint8x16_t step_16(Reader& in, float*& out, uint8x16_t index) {
  if (Reader::kActivationRows)
    return activation_16<kStoreFloat, true, kPreluMax>(in.next_16(), in.activation_pointers(), out, index);
  if (kStoreFloat && Reader::kClampKind == EpilogueClamp::kMinMax)
    return max_store_negative_bytes(in.next_16_but_max(), in.lo4(), out, index);
  const float32x4x4_t y = in.next_16();
  if (kStoreFloat) store_16_advance(out, y);
  return negative_bytes(y, index);
}

// Activation rows with bits, no clamp, whole 64-channel words and C_r a
// multiple of 64, two rows at a time: one asm per 16 channels of both rows
// loads each per-channel constant (multiplier, bias, shift_in, slope,
// shift_out, -threshold) once for the two rows, with the same IEEE operations
// per row as activation_16 (acc: mls, scvtf; fmul, fadd bias, fadd residual,
// fadd shift_in, the PReLU, fadd shift_out; y stored when kStoreFloat; bytes
// of y < -threshold). Each row's residual pointer goes back C_r channels
// after each segment of C_r channels (a multiple of 64: whole words).
#define IRNET_PAIR_ACC(ROW, POP, BASE)                          \
  "ld1 {%S[t].4s - %V[t].4s}, [%[" POP "]], #64\n\t"           \
  "ld1 {%S[" ROW "].4s - %V[" ROW "].4s}, [%[" BASE "]], #64\n\t" \
  "mls %S[" ROW "].4s, %S[t].4s, %[two].s[0]\n\t"              \
  "mls %T[" ROW "].4s, %T[t].4s, %[two].s[0]\n\t"              \
  "mls %U[" ROW "].4s, %U[t].4s, %[two].s[0]\n\t"              \
  "mls %V[" ROW "].4s, %V[t].4s, %[two].s[0]\n\t"              \
  "scvtf %S[" ROW "].4s, %S[" ROW "].4s\n\t"                   \
  "scvtf %T[" ROW "].4s, %T[" ROW "].4s\n\t"                   \
  "scvtf %U[" ROW "].4s, %U[" ROW "].4s\n\t"                   \
  "scvtf %V[" ROW "].4s, %V[" ROW "].4s\n\t"
// ROW op= c, lane by lane.
#define IRNET_PAIR_OP(OP, ROW)                                  \
  OP " %S[" ROW "].4s, %S[" ROW "].4s, %S[c].4s\n\t"            \
  OP " %T[" ROW "].4s, %T[" ROW "].4s, %T[c].4s\n\t"            \
  OP " %U[" ROW "].4s, %U[" ROW "].4s, %U[c].4s\n\t"            \
  OP " %V[" ROW "].4s, %V[" ROW "].4s, %V[c].4s\n\t"
#define IRNET_PAIR_LOAD_C(PTR) "ld1 {%S[c].4s - %V[c].4s}, [%[" PTR "]], #64\n\t"
// Both rows op= the next 16 constants from PTR.
#define IRNET_PAIR_BOTH(OP, PTR) IRNET_PAIR_LOAD_C(PTR) IRNET_PAIR_OP(OP, "a") IRNET_PAIR_OP(OP, "b")
#define IRNET_PAIR_RESIDUAL IRNET_PAIR_LOAD_C("ra") IRNET_PAIR_OP("fadd", "a") IRNET_PAIR_LOAD_C("rb") IRNET_PAIR_OP("fadd", "b")
// t = ROW * slope (in c), ROW = max(ROW, t) or ROW < 0 ? t : ROW.
#define IRNET_PAIR_PRELU_PRODUCT(ROW)                           \
  "fmul %S[t].4s, %S[" ROW "].4s, %S[c].4s\n\t"                 \
  "fmul %T[t].4s, %T[" ROW "].4s, %T[c].4s\n\t"                 \
  "fmul %U[t].4s, %U[" ROW "].4s, %U[c].4s\n\t"                 \
  "fmul %V[t].4s, %V[" ROW "].4s, %V[c].4s\n\t"
#define IRNET_PAIR_PRELU_MAX(ROW)                               \
  IRNET_PAIR_PRELU_PRODUCT(ROW)                                 \
  "fmax %S[" ROW "].4s, %S[" ROW "].4s, %S[t].4s\n\t"           \
  "fmax %T[" ROW "].4s, %T[" ROW "].4s, %T[t].4s\n\t"           \
  "fmax %U[" ROW "].4s, %U[" ROW "].4s, %U[t].4s\n\t"           \
  "fmax %V[" ROW "].4s, %V[" ROW "].4s, %V[t].4s\n\t"
#define IRNET_PAIR_PRELU_SELECT(ROW)                            \
  IRNET_PAIR_PRELU_PRODUCT(ROW)                                 \
  "fcmlt %S[m].4s, %S[" ROW "].4s, #0.0\n\t"                    \
  "fcmlt %T[m].4s, %T[" ROW "].4s, #0.0\n\t"                    \
  "fcmlt %U[m].4s, %U[" ROW "].4s, #0.0\n\t"                    \
  "fcmlt %V[m].4s, %V[" ROW "].4s, #0.0\n\t"                    \
  "bit %S[" ROW "].16b, %S[t].16b, %S[m].16b\n\t"               \
  "bit %T[" ROW "].16b, %T[t].16b, %T[m].16b\n\t"               \
  "bit %U[" ROW "].16b, %U[t].16b, %U[m].16b\n\t"               \
  "bit %V[" ROW "].16b, %V[t].16b, %V[m].16b\n\t"
#define IRNET_PAIR_STORE                                        \
  "st1 {%S[a].4s - %V[a].4s}, [%[oa]], #64\n\t"                 \
  "st1 {%S[b].4s - %V[b].4s}, [%[ob]], #64\n\t"
// The bytes of ROW < -threshold (in c), narrowed as in negative_bytes.
#define IRNET_PAIR_BELOW(ROW, BYTES)                            \
  "fcmgt %S[t].4s, %S[c].4s, %S[" ROW "].4s\n\t"                \
  "fcmgt %T[t].4s, %T[c].4s, %T[" ROW "].4s\n\t"                \
  "fcmgt %U[t].4s, %U[c].4s, %U[" ROW "].4s\n\t"                \
  "fcmgt %V[t].4s, %V[c].4s, %V[" ROW "].4s\n\t"                \
  "tbl %[" BYTES "].16b, {%S[t].16b - %V[t].16b}, %[index].16b\n\t"
// Two asm, as one has too many operands: y of both rows before the
// activation stage, then the activation stage, stores and bytes (a and b stay
// in place in between).
#define IRNET_PAIR_STEP(RESIDUAL, PRELU, STORE)                                                                 \
  do {                                                                                                             \
  __asm__(IRNET_PAIR_ACC("a", "pa", "ba") IRNET_PAIR_ACC("b", "pb", "bb") IRNET_PAIR_BOTH("fmul", "mul")           \
              IRNET_PAIR_BOTH("fadd", "bias") RESIDUAL                                                             \
          : [a] "=&w"(ya), [b] "=&w"(yb), [c] "=&w"(k), [t] "=&w"(t), [pa] "+r"(s.pop_a), [pb] "+r"(s.pop_b),     \
            [ba] "+r"(s.base_a), [bb] "+r"(s.base_b), [ra] "+r"(s.res_a), [rb] "+r"(s.res_b),                     \
            [mul] "+r"(s.multiplier), [bias] "+r"(s.bias)                                                          \
          : [two] "w"(two)                                                                                         \
          : "memory");                                                                                             \
  __asm__(IRNET_PAIR_BOTH("fadd", "p0") IRNET_PAIR_LOAD_C("p1") PRELU("a") PRELU("b") IRNET_PAIR_BOTH("fadd", "p2") \
              STORE IRNET_PAIR_LOAD_C("p3") IRNET_PAIR_BELOW("a", "bytes_a") IRNET_PAIR_BELOW("b", "bytes_b")     \
          : [a] "+w"(ya), [b] "+w"(yb), [c] "=&w"(k), [t] "=&w"(t), [m] "=&w"(m), [bytes_a] "=&w"(bytes_a),        \
            [bytes_b] "=&w"(bytes_b), [p0] "+r"(s.act[0]), [p1] "+r"(s.act[1]), [p2] "+r"(s.act[2]),               \
            [p3] "+r"(s.act[3]), [oa] "+r"(s.out_a), [ob] "+r"(s.out_b)                                            \
          : [index] "w"(index)                                                                                     \
          : "memory");                                                                                             \
  } while (0)

// The pointers of two rows that pair_step_16 reads and advances.
struct RowPairPointers {
  const std::int32_t *pop_a, *pop_b, *base_a, *base_b;
  const float *res_a, *res_b, *multiplier, *bias;
  const float* act[4];  // shift_in, slope, shift_out, -threshold
  float *out_a, *out_b;
};

template <bool kStoreFloat, bool kResidual, bool kPreluMax>
__attribute__((always_inline)) inline void pair_step_16(RowPairPointers& s, int32x4_t two, uint8x16_t index,
                                                        uint8x16_t& bytes_a, uint8x16_t& bytes_b) {
  float32x4x4_t ya, yb, k, t;
  uint8x16x4_t m;  // unused by the max form
  if (kResidual && kPreluMax && kStoreFloat)
    IRNET_PAIR_STEP(IRNET_PAIR_RESIDUAL, IRNET_PAIR_PRELU_MAX, IRNET_PAIR_STORE);
  else if (kResidual && kPreluMax)
    IRNET_PAIR_STEP(IRNET_PAIR_RESIDUAL, IRNET_PAIR_PRELU_MAX, "");
  else if (kResidual && kStoreFloat)
    IRNET_PAIR_STEP(IRNET_PAIR_RESIDUAL, IRNET_PAIR_PRELU_SELECT, IRNET_PAIR_STORE);
  else if (kResidual)
    IRNET_PAIR_STEP(IRNET_PAIR_RESIDUAL, IRNET_PAIR_PRELU_SELECT, "");
  else if (kPreluMax && kStoreFloat)
    IRNET_PAIR_STEP("", IRNET_PAIR_PRELU_MAX, IRNET_PAIR_STORE);
  else if (kPreluMax)
    IRNET_PAIR_STEP("", IRNET_PAIR_PRELU_MAX, "");
  else if (kStoreFloat)
    IRNET_PAIR_STEP("", IRNET_PAIR_PRELU_SELECT, IRNET_PAIR_STORE);
  else
    IRNET_PAIR_STEP("", IRNET_PAIR_PRELU_SELECT, "");
}
#undef IRNET_PAIR_STEP
#undef IRNET_PAIR_BELOW
#undef IRNET_PAIR_STORE
#undef IRNET_PAIR_PRELU_SELECT
#undef IRNET_PAIR_PRELU_MAX
#undef IRNET_PAIR_PRELU_PRODUCT
#undef IRNET_PAIR_RESIDUAL
#undef IRNET_PAIR_BOTH
#undef IRNET_PAIR_LOAD_C
#undef IRNET_PAIR_OP
#undef IRNET_PAIR_ACC

// The pairs of rows of `block` (an odd last row is left to the caller).
template <bool kStoreFloat, bool kResidual, bool kPreluMax>
__attribute__((noinline)) void bconv_epilogue_activation_row_pairs(const EpilogueConstants& constants, const EpilogueRows& block) {
  const EpilogueConstants c = constants;  // local copies: the stores below cannot alias them
  const EpilogueRows rows = block;
  const int n = c.channels, words = n / kBitsPerWord, residual_channels = c.residual_channels;
  const uint8x16_t weights = bit_weights(), index = lane_byte_index();
  const int32x4_t two = vdupq_n_s32(2);
  // The words of a segment of C_r channels, after which the residuals start over.
  const int segment_words = kResidual ? residual_channels / kBitsPerWord : words;
  for (std::size_t r = 0; r + 1 < rows.count; r += 2) {
    RowPairPointers s;
    s.pop_a = rows.popcounts + r * n;
    s.pop_b = s.pop_a + n;
    s.base_a = rows.bases[r];
    s.base_b = rows.bases[r + 1];
    s.res_a = kResidual ? rows.residual + r * residual_channels : nullptr;
    s.res_b = kResidual ? s.res_a + residual_channels : nullptr;
    s.multiplier = c.multiplier;
    s.bias = c.bias;
    s.act[0] = c.act_shift_in, s.act[1] = c.act_slope, s.act[2] = c.act_shift_out, s.act[3] = c.neg_threshold;
    s.out_a = kStoreFloat ? rows.y + r * n : nullptr;
    s.out_b = kStoreFloat ? s.out_a + n : nullptr;
    BitWord* bits_a = rows.bits + r * words;
    BitWord* bits_b = bits_a + words;
    BitWord* const row_end = bits_b;
    do {
      BitWord* const segment_end = bits_a + segment_words;
      do {
        uint8x16_t a0, a1, a2, a3, b0, b1, b2, b3;
        pair_step_16<kStoreFloat, kResidual, kPreluMax>(s, two, index, a0, b0);
        pair_step_16<kStoreFloat, kResidual, kPreluMax>(s, two, index, a1, b1);
        pair_step_16<kStoreFloat, kResidual, kPreluMax>(s, two, index, a2, b2);
        pair_step_16<kStoreFloat, kResidual, kPreluMax>(s, two, index, a3, b3);
        *bits_a++ = pack_word(a0, a1, a2, a3, weights);
        *bits_b++ = pack_word(b0, b1, b2, b3, weights);
      } while (bits_a != segment_end);
      if (kResidual) s.res_a -= residual_channels, s.res_b -= residual_channels;
    } while (bits_a != row_end);
  }
}

// The rows; kWholeSteps: the channels are a nonzero multiple of the step (64
// with bits, else 16), so a row has no tail and no checks of its own (9
// instructions per row around its steps instead of 15). Out of line: both
// variants inlined into one function, gcc stopped inlining the steps.
// kPreluMax: activation rows whose slopes are all in (0, 1].
template <bool kWholeSteps, bool kStoreFloat, bool kBits, bool kResidual, EpilogueClamp kClamp, bool kActivation,
          bool kPreluMax>
__attribute__((noinline)) void bconv_epilogue_float_row_loop(const EpilogueConstants& constants,
                                                             const EpilogueRows& block) {
  const EpilogueConstants c = constants;  // local copies: the stores below cannot alias them
  const EpilogueRows rows = block;
  const int n = c.channels;
  constexpr int kRowStep = kBits ? kBitsPerWord : kStep;
  const int steps = n / kRowStep;
  const uint8x16_t weights = bit_weights(), index = lane_byte_index();
  FloatRowReader<kResidual, kClamp, kActivation> in(c, rows.popcounts, rows.residual);
  float* y = rows.y;
  BitWord* bits = rows.bits;
  for (std::size_t r = 0; r < rows.count; ++r) {
    in.start_row(rows.bases[r]);
    if (kBits && (kWholeSteps || steps > 0)) {
      const BitWord* const row_end = bits + steps;
      do {
        const uint8x16_t b0 = step_16<kStoreFloat, kPreluMax>(in, y, index);
        const uint8x16_t b1 = step_16<kStoreFloat, kPreluMax>(in, y, index);
        const uint8x16_t b2 = step_16<kStoreFloat, kPreluMax>(in, y, index);
        const uint8x16_t b3 = step_16<kStoreFloat, kPreluMax>(in, y, index);
        *bits++ = pack_word(b0, b1, b2, b3, weights);
      } while (bits != row_end);
    }
    if (!kBits && (kWholeSteps || steps > 0)) {
      const float* const row_end = y + steps * kStep;
      do {
        if (kActivation)
          activation_16<true, false, kPreluMax>(in.next_16(), in.activation_pointers(), y, index);
        else
          store_16_advance(y, in.next_16());
      } while (y != row_end);
    }
    if (kWholeSteps) continue;
    BitWord tail = 0;
    int o = steps * kRowStep;
    if (kBits && n - o >= kStep) {
      // The partial last word's whole 16-channel steps (a 32-channel conv's
      // only word) through the vector step; the zero bytes give the word's
      // unused bits 0.
      const uint8x16_t none = vdupq_n_u8(0);
      const int tail_steps = (n - o) / kStep;
      const uint8x16_t b0 = step_16<kStoreFloat, kPreluMax>(in, y, index);
      const uint8x16_t b1 = tail_steps > 1 ? step_16<kStoreFloat, kPreluMax>(in, y, index) : none;
      const uint8x16_t b2 = tail_steps > 2 ? step_16<kStoreFloat, kPreluMax>(in, y, index) : none;
      tail = pack_word(b0, b1, b2, none, weights);
      o += tail_steps * kStep;
    }
    for (; o < n; ++o) {
      bool bit;
      const float v = in.next_1(&bit);
      if (kStoreFloat) *y++ = v;
      if (bit) tail |= BitWord{1} << (o - steps * kRowStep);
    }
    if (kBits) *bits++ = tail;
  }
}

// The float rows, as select_float_rows (bconv_epilogue.h) instantiates them.
struct FloatRowsNeonA64 {
  template <bool kStoreFloat, bool kBits, bool kResidual, EpilogueClamp kClamp, bool kActivation>
  static void run(const EpilogueConstants& c, const EpilogueRows& rows) {
    if (kActivation && c.slopes_in_unit_interval)
      run_rows<kStoreFloat, kBits, kResidual, kClamp, kActivation, true>(c, rows);
    else
      run_rows<kStoreFloat, kBits, kResidual, kClamp, kActivation, false>(c, rows);
  }

 private:
  template <bool kStoreFloat, bool kBits, bool kResidual, EpilogueClamp kClamp, bool kActivation, bool kPreluMax>
  static void run_rows(const EpilogueConstants& c, const EpilogueRows& rows) {
    const int row_step = kBits ? kBitsPerWord : kStep;
    if (kActivation && kBits && kClamp == EpilogueClamp::kNone && c.channels > 0 &&
        c.channels % kBitsPerWord == 0 &&
        (!kResidual || (c.residual_channels > 0 && c.residual_channels % kBitsPerWord == 0)) &&
        rows.count >= 2) {
      bconv_epilogue_activation_row_pairs<kStoreFloat, kResidual, kPreluMax>(c, rows);
      if (rows.count % 2 == 0) return;
      const std::size_t last = rows.count - 1;
      EpilogueRows tail = rows;
      tail.count = 1;
      tail.popcounts += last * c.channels;
      tail.bases += last;
      if (kResidual) tail.residual += last * c.residual_channels;
      if (kStoreFloat) tail.y += last * c.channels;
      tail.bits += last * (c.channels / kBitsPerWord);
      bconv_epilogue_float_row_loop<true, kStoreFloat, kBits, kResidual, kClamp, kActivation, kPreluMax>(c, tail);
      return;
    }
    if (c.channels % row_step != 0)
      bconv_epilogue_float_row_loop<false, kStoreFloat, kBits, kResidual, kClamp, kActivation, kPreluMax>(c, rows);
    else if (c.channels > 0)
      bconv_epilogue_float_row_loop<true, kStoreFloat, kBits, kResidual, kClamp, kActivation, kPreluMax>(c, rows);
  }
};

// Sign bytes of the next 16 channels of a threshold row: acc * dir < limit
// (mul and cmgt into four consecutive registers and one tbl, as in
// negative_bytes, in one asm that takes the loaded register tuples whole: gcc
// spills tuples whose registers are used one by one); the pointers advance by 16.
inline uint8x16_t threshold_bytes_advance(const std::int32_t*& popcounts, const std::int32_t*& base,
                                          const std::int32_t*& dir, const std::int32_t*& limit, int32x4_t two,
                                          uint8x16_t index) {
  const int32x4x4_t p = load_16_advance<int32x4x4_t>(popcounts);
  const int32x4x4_t acc = accumulators_16_advance(base, p, two);
  const int32x4x4_t d = load_16_advance<int32x4x4_t>(dir);
  const int32x4x4_t t = load_16_advance<int32x4x4_t>(limit);
  uint8x16x4_t masks;
  uint8x16_t bytes;
  __asm__(
      "mul %S0.4s, %S2.4s, %S3.4s\n\t"
      "mul %T0.4s, %T2.4s, %T3.4s\n\t"
      "mul %U0.4s, %U2.4s, %U3.4s\n\t"
      "mul %V0.4s, %V2.4s, %V3.4s\n\t"
      "cmgt %S0.4s, %S4.4s, %S0.4s\n\t"
      "cmgt %T0.4s, %T4.4s, %T0.4s\n\t"
      "cmgt %U0.4s, %U4.4s, %U0.4s\n\t"
      "cmgt %V0.4s, %V4.4s, %V0.4s\n\t"
      "tbl %1.16b, {%S0.16b - %V0.16b}, %5.16b"
      : "=&w"(masks), "=w"(bytes)
      : "w"(acc), "w"(d), "w"(t), "w"(index));
  return bytes;
}

}  // namespace

EpilogueRowsFn bconv_epilogue_float_rows_neon_a64(bool store_float, bool bits, bool residual, EpilogueClamp clamp,
                                                  bool activation) {
  return select_float_rows<FloatRowsNeonA64>(store_float, bits, residual, clamp, activation);
}

void bconv_epilogue_threshold_rows_neon_a64(const EpilogueConstants& c, const EpilogueRows& rows) {
  const uint8x16_t weights = bit_weights(), index = lane_byte_index();
  const int32x4_t two = vdupq_n_s32(2);
  const int n = c.channels, words = n / kBitsPerWord;
  const std::int32_t* popcounts = rows.popcounts;
  BitWord* bits = rows.bits;
  for (std::size_t r = 0; r < rows.count; ++r) {
    const std::int32_t* base = rows.bases[r];
    const std::int32_t* dir = c.dir;
    const std::int32_t* limit = c.limit;
    for (int w = 0; w < words; ++w) {
      const uint8x16_t b0 = threshold_bytes_advance(popcounts, base, dir, limit, two, index);
      const uint8x16_t b1 = threshold_bytes_advance(popcounts, base, dir, limit, two, index);
      const uint8x16_t b2 = threshold_bytes_advance(popcounts, base, dir, limit, two, index);
      const uint8x16_t b3 = threshold_bytes_advance(popcounts, base, dir, limit, two, index);
      *bits++ = pack_word(b0, b1, b2, b3, weights);
    }
    if (words * kBitsPerWord == n) continue;
    BitWord tail = 0;
    for (int o = 0; o < n - words * kBitsPerWord; ++o, ++popcounts, ++base, ++dir, ++limit)
      if ((*base - 2 * *popcounts) * *dir < *limit) tail |= BitWord{1} << o;
    *bits++ = tail;
  }
}

namespace {
const BconvEpilogueKernel kNeon = {"bconv_epilogue_neon_a64", always_supported, bconv_epilogue_float_rows_neon_a64,
                                   bconv_epilogue_threshold_rows_neon_a64, nullptr, kStep,
                                   bconv_epilogue_float_row_portable};
const BconvEpilogueKernel* const kKernels[] = {&kNeon};
}  // namespace

extern const KernelTable<BconvEpilogueKernel> kBconvEpilogueKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
