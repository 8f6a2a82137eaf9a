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
// Channels past the last full 64-channel word (float-only rows: past the last
// full 16-channel step) run through the same IEEE operations one channel at a time.
// No FMA anywhere: the product is rounded before the bias is added, as in the reference.
#include "bconv/arm64/bconv_epilogue_neon_a64.h"

#include <arm_neon.h>

#include <iterator>

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

inline float clamp_select(float y, float lo, float hi) { return y < lo ? lo : (y > hi ? hi : y); }

// Reads the inputs of consecutive rows in order, 16 channels (next_16) or one
// (next_1) at a time, and returns their y; its pointers advance with each call.
// Popcounts and residuals run on from row to row; start_row points the
// per-channel arrays back at channel 0 with the new row's base.
template <bool kResidual, EpilogueClamp kClamp>
class FloatRowReader {
 public:
  FloatRowReader(const EpilogueConstants& c, const std::int32_t* popcounts, const float* residual)
      : popcounts_(popcounts), residual_(residual), multiplier0_(c.multiplier), bias0_(c.bias),
        lo_(c.clamp_lo), hi_(c.clamp_hi), lo4_(vdupq_n_f32(c.clamp_lo)), hi4_(vdupq_n_f32(c.clamp_hi)),
        two_(vdupq_n_s32(2)) {}

  void start_row(const std::int32_t* base) {
    base_ = base;
    multiplier_ = multiplier0_;
    bias_ = bias0_;
  }

  // y of the next 16 channels (always inlined: as a call it costs more than it does).
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

  float32x4_t lo4() const { return lo4_; }
  static constexpr EpilogueClamp kClampKind = kClamp;

  float next_1() {
    float v = static_cast<float>(*base_ - 2 * *popcounts_) * *multiplier_;
    v = v + *bias_;
    if (kResidual) v = v + *residual_;
    if (kClamp != EpilogueClamp::kNone) v = clamp_select(v, lo_, hi_);
    advance(1);
    return v;
  }

 private:
  void advance(int n) {
    popcounts_ += n, base_ += n, multiplier_ += n, bias_ += n;
    if (kResidual) residual_ += n;
  }

  const std::int32_t* popcounts_;
  const float* residual_;
  const float* const multiplier0_;
  const float* const bias0_;
  const std::int32_t* base_ = nullptr;
  const float* multiplier_ = nullptr;
  const float* bias_ = nullptr;
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

// The next 16 channels: y stored (when kStoreFloat), sign bytes returned.
template <bool kStoreFloat, typename Reader>
__attribute__((always_inline)) inline uint8x16_t step_16(Reader& in, float*& out, uint8x16_t index) {
  if (kStoreFloat && Reader::kClampKind == EpilogueClamp::kMinMax)
    return max_store_negative_bytes(in.next_16_but_max(), in.lo4(), out, index);
  const float32x4x4_t y = in.next_16();
  if (kStoreFloat) store_16_advance(out, y);
  return negative_bytes(y, index);
}

// The rows; kWholeSteps: the channels are a nonzero multiple of the step (64
// with bits, else 16), so a row has no tail and no checks of its own (9
// instructions per row around its steps instead of 15). Out of line: both
// variants inlined into one function, gcc stopped inlining the steps.
template <bool kWholeSteps, bool kStoreFloat, bool kBits, bool kResidual, EpilogueClamp kClamp>
__attribute__((noinline)) void bconv_epilogue_float_row_loop(const EpilogueConstants& constants,
                                                             const EpilogueRows& block) {
  const EpilogueConstants c = constants;  // local copies: the stores below cannot alias them
  const EpilogueRows rows = block;
  const int n = c.channels;
  constexpr int kRowStep = kBits ? kBitsPerWord : kStep;
  const int steps = n / kRowStep;
  const uint8x16_t weights = bit_weights(), index = lane_byte_index();
  FloatRowReader<kResidual, kClamp> in(c, rows.popcounts, rows.residual);
  float* y = rows.y;
  BitWord* bits = rows.bits;
  for (std::size_t r = 0; r < rows.count; ++r) {
    in.start_row(rows.bases[r]);
    if (kBits && (kWholeSteps || steps > 0)) {
      const BitWord* const row_end = bits + steps;
      do {
        const uint8x16_t b0 = step_16<kStoreFloat>(in, y, index);
        const uint8x16_t b1 = step_16<kStoreFloat>(in, y, index);
        const uint8x16_t b2 = step_16<kStoreFloat>(in, y, index);
        const uint8x16_t b3 = step_16<kStoreFloat>(in, y, index);
        *bits++ = pack_word(b0, b1, b2, b3, weights);
      } while (bits != row_end);
    }
    if (!kBits && (kWholeSteps || steps > 0)) {
      const float* const row_end = y + steps * kStep;
      do {
        store_16_advance(y, in.next_16());
      } while (y != row_end);
    }
    if (kWholeSteps) continue;
    BitWord tail = 0;
    for (int o = steps * kRowStep; o < n; ++o) {
      const float v = in.next_1();
      if (kStoreFloat) *y++ = v;
      if (v < 0.f) tail |= BitWord{1} << (o - steps * kRowStep);
    }
    if (kBits) *bits++ = tail;
  }
}

// The float rows, as select_float_rows (bconv_epilogue.h) instantiates them.
struct FloatRowsNeonA64 {
  template <bool kStoreFloat, bool kBits, bool kResidual, EpilogueClamp kClamp>
  static void run(const EpilogueConstants& c, const EpilogueRows& rows) {
    const int row_step = kBits ? kBitsPerWord : kStep;
    if (c.channels % row_step != 0)
      bconv_epilogue_float_row_loop<false, kStoreFloat, kBits, kResidual, kClamp>(c, rows);
    else if (c.channels > 0)
      bconv_epilogue_float_row_loop<true, kStoreFloat, kBits, kResidual, kClamp>(c, rows);
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

EpilogueRowsFn bconv_epilogue_float_rows_neon_a64(bool store_float, bool bits, bool residual, EpilogueClamp clamp) {
  return select_float_rows<FloatRowsNeonA64>(store_float, bits, residual, clamp);
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
                                   bconv_epilogue_threshold_rows_neon_a64, nullptr,
                                   bconv_epilogue_float_row_portable};
const BconvEpilogueKernel* const kKernels[] = {&kNeon};
}  // namespace

extern const KernelTable<BconvEpilogueKernel> kBconvEpilogueKernelsArm64 = {kKernels, std::size(kKernels)};

}  // namespace irnet
