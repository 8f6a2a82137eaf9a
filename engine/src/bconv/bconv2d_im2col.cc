// BConv2d step 1, im2col (bconv2d.cc has the whole algorithm): the A rows of
// a block of output pixels, one packed input pixel (or one group's bits of it)
// per kernel tap, padding taps filled with pad_fill_.
//
// Two walks: im2col_group extracts one group's bits at any bit offset, tap by
// tap; im2col_pixels (one group: every tap a whole pixel) copies whole pixels,
// with compile-time sizes for the 3x3 kernels over 64-512 channels that
// binary ResNets are made of, where a kernel row inside the input is one run
// of 3 adjacent pixels and, at stride 1, neighbouring columns share their
// loads (copy_adjacent_runs).
#include <algorithm>
#include <cstring>

#include "bconv/bconv2d.h"

namespace irnet {
namespace {

// Copies `n_words` words holding bits [bit_offset, bit_offset + 64*n_words) of
// `src` (which has `src_words` words) into dst, then masks the last word.
inline void extract_bits(const BitWord* src, std::size_t src_words, std::size_t bit_offset,
                         std::size_t n_words, BitWord tail_mask, BitWord* dst) {
  const std::size_t first = bit_offset / kBitsPerWord;
  const unsigned s = bit_offset % kBitsPerWord;
  if (s == 0) {
    for (std::size_t w = 0; w < n_words; ++w) dst[w] = src[first + w];
  } else {
    for (std::size_t w = 0; w < n_words; ++w) {
      const std::size_t q = first + w;
      const BitWord hi = q + 1 < src_words ? src[q + 1] << (kBitsPerWord - s) : 0;
      dst[w] = (src[q] >> s) | hi;
    }
  }
  dst[n_words - 1] &= tail_mask;
}

// dst[0, n) = src[0, n), two words per fixed-size copy (a single 16-byte load
// and store each, where a variable-size memcpy would be a library call).
inline void copy_words(const BitWord* src, std::size_t n, BitWord* dst) {
  std::size_t w = 0;
  for (; w + 2 <= n; w += 2) std::memcpy(dst + w, src + w, 2 * sizeof(BitWord));
  if (w < n) dst[w] = src[w];
}

// The same for a compile-time n = N: unrolled 16-byte copies, and an odd
// N > 1 ends with a 16-byte copy overlapping the one before (its first word
// is written twice, with the same value) instead of a separate 8-byte one.
// N = 0: n is only known at run time.
template <std::size_t N>
inline void copy_n(const BitWord* src, std::size_t n, BitWord* dst) {
  if constexpr (N == 0) {
    copy_words(src, n, dst);
  } else if constexpr (N == 1) {
    dst[0] = src[0];
  } else {
    for (std::size_t w = 0; w + 2 <= N; w += 2) std::memcpy(dst + w, src + w, 2 * sizeof(BitWord));
    if constexpr (N % 2 == 1) std::memcpy(dst + N - 2, src + N - 2, 2 * sizeof(BitWord));
  }
}

// S adjacent interior columns of one kernel row at stride 1: run j (j < S)
// is the KW * W words src[j * W, (j + KW) * W), copied to dst + j * KWords.
// Neighbouring runs share KW - 1 pixels, so the S runs' span of
// (S + KW - 1) * W words is loaded once, as 16-byte pairs: for even W the
// span's aligned pairs, of which run j stores KW * W / 2; for W = 1 (KW = 3)
// the pairs at every word, run j storing the overlapping pairs j and j + 1.
// The pairs are loaded and stored as 16-byte vectors (GCC / Clang vector
// extension, 8-byte aligned, may alias the words: a q register on aarch64 and
// armv7 NEON, an xmm register on x86-64), which keeps them out of the general
// registers the loop around needs.
template <std::size_t W, int KW, std::size_t KWords, int S>
inline void copy_adjacent_runs(const BitWord* src, BitWord* dst) {
  static_assert(W % 2 == 0 || (W == 1 && KW == 3), "even words per pixel, or 1 with a 3-wide kernel");
  typedef BitWord WordPair __attribute__((vector_size(2 * sizeof(BitWord)), aligned(sizeof(BitWord)), may_alias));
  constexpr int kPairs = W == 1 ? S + 1 : int(W) * (S + KW - 1) / 2;
  constexpr std::size_t kPairStride = W == 1 ? 1 : 2;  // words between loaded pairs
  WordPair pairs[kPairs];
  for (int q = 0; q < kPairs; ++q) pairs[q] = *reinterpret_cast<const WordPair*>(src + q * kPairStride);
  for (int j = 0; j < S; ++j) {
    if constexpr (W == 1) {
      *reinterpret_cast<WordPair*>(dst + j * KWords) = pairs[j];
      *reinterpret_cast<WordPair*>(dst + j * KWords + 1) = pairs[j + 1];
    } else {
      for (int q = 0; q < KW * int(W) / 2; ++q)
        *reinterpret_cast<WordPair*>(dst + j * KWords + 2 * q) = pairs[j * int(W) / 2 + q];
    }
  }
}

// A one-group im2col's geometry (BConv2d::im2col_pixels), for im2col_rows.
struct PixelIm2col {
  int kernel_h, kernel_w, in_h, in_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int out_h, out_w;
  std::size_t words, k_words;  // words per pixel (one group: all channels), per A row
  // Interior columns [interior_begin, interior_end): every tap inside the input,
  // iw0 = ow * stride_w - pad_left >= 0 and iw0 + (kernel_w - 1) * dilation_w < in_w.
  int interior_begin, interior_end;
  const BitWord* fill;  // a padded tap's words
};

// Rows [row_begin, row_begin + rows) of the A matrix of a one-group
// convolution, one output row (n, oh) at a time, columns [ow, ow_end) of it,
// kernel row by kernel row. W = words per pixel and K = kernel_h = kernel_w
// when they are compile-time constants (0: read from p), so the copies of a
// tap (W words) and of an interior kernel row (K * W words) are fixed-size,
// and so is the A row (K * K * W words): at stride 1 the interior columns go
// S at a time through copy_adjacent_runs. (The geometry is copied to locals:
// the stores to cols could otherwise force reloads through p.)
template <std::size_t W, int K>
void im2col_rows(const PixelIm2col& p, std::size_t row_begin, std::size_t rows, const BitWord* input,
                 BitWord* cols) {
  constexpr std::size_t kKWords = std::size_t(K) * K * W;
  const std::size_t words = W != 0 ? W : p.words;
  const int kernel_w = K != 0 ? K : p.kernel_w, kernel_h = K != 0 ? K : p.kernel_h;
  const int in_h = p.in_h, in_w = p.in_w, stride_h = p.stride_h;
  const int stride_w = p.stride_w, dilation_h = p.dilation_h, dilation_w = p.dilation_w;
  const int pad_top = p.pad_top, pad_left = p.pad_left, out_h = p.out_h, out_w = p.out_w;
  const int interior_begin = p.interior_begin, interior_end = p.interior_end;
  const std::size_t k_words = kKWords != 0 ? kKWords : p.k_words, run_words = std::size_t(kernel_w) * words;
  const std::size_t image_words = std::size_t(in_h) * in_w * words, image_row_words = std::size_t(in_w) * words;
  const std::size_t run_step = std::size_t(stride_w) * words;
  const BitWord* fill = p.fill;
  const bool adjacent_taps = dilation_w == 1;
  // The kw taps of an input row for output column ow, one by one.
  const auto copy_taps = [&](const BitWord* image_row, int ow, BitWord* dst) {
    const int iw0 = ow * stride_w - pad_left;
    for (int j = 0; j < kernel_w; ++j, dst += words) {
      const int iw = iw0 + j * dilation_w;
      copy_n<W>(iw >= 0 && iw < in_w ? image_row + std::size_t(iw) * words : fill, words, dst);
    }
  };
  // A kernel row in the padding: all kw taps are the fill, for fixed sizes one
  // copy of kw fills.
  constexpr std::size_t kRunWords = W * K;
  BitWord fill_run[kRunWords != 0 ? kRunWords : 1];
  if constexpr (kRunWords != 0)
    for (int j = 0; j < K; ++j) copy_n<W>(fill, W, fill_run + j * W);
  const auto copy_fills = [&](BitWord* dst) {
    if constexpr (kRunWords != 0) {
      copy_n<kRunWords>(fill_run, kRunWords, dst);
    } else {
      for (int j = 0; j < kernel_w; ++j, dst += words) copy_words(fill, words, dst);
    }
  };
  std::size_t n = row_begin / (std::size_t(out_h) * out_w);
  std::size_t rem = row_begin % (std::size_t(out_h) * out_w);
  int oh = static_cast<int>(rem / out_w), ow = static_cast<int>(rem % out_w);
  for (std::size_t r = 0; r < rows;) {
    const int count = static_cast<int>(std::min<std::size_t>(rows - r, std::size_t(out_w - ow)));
    const int ow_end = ow + count;
    const int mid_begin = std::clamp(interior_begin, ow, ow_end);
    const int mid_end = std::clamp(interior_end, mid_begin, ow_end);
    const BitWord* image = input + n * image_words;
    for (int i = 0; i < kernel_h; ++i) {
      const int ih = oh * stride_h - pad_top + i * dilation_h;
      const BitWord* image_row = ih >= 0 && ih < in_h ? image + std::size_t(ih) * image_row_words : nullptr;
      BitWord* dst = cols + r * k_words + std::size_t(i) * run_words;
      if (image_row == nullptr) {
        for (int c = ow; c < ow_end; ++c, dst += k_words) copy_fills(dst);
        continue;
      }
      int c = ow;
      for (; c < mid_begin; ++c, dst += k_words) copy_taps(image_row, c, dst);
      if (adjacent_taps && c < mid_end) {
        // Interior: the kw taps are kw adjacent pixels, one run of kw * words words.
        const BitWord* src = image_row + std::size_t(c * stride_w - pad_left) * words;
        if constexpr (kKWords != 0) {
          if (stride_w == 1) {
            constexpr int kColumns = W <= 2 ? 4 : 2;  // at most 16 pairs in registers (W = 8)
            for (; c + kColumns <= mid_end; c += kColumns, dst += kColumns * kKWords, src += kColumns * W)
              copy_adjacent_runs<W, K, kKWords, kColumns>(src, dst);
          }
        }
        for (; c < mid_end; ++c, dst += k_words, src += run_step) copy_n<W * K>(src, run_words, dst);
      }
      for (; c < ow_end; ++c, dst += k_words) copy_taps(image_row, c, dst);
    }
    r += count;
    ow = ow_end;
    if (ow == out_w) {
      ow = 0;
      if (++oh == out_h) {
        oh = 0;
        ++n;
      }
    }
  }
}

// im2col_pair_taps for TAPS taps per row (0: taps at run time).
template <std::size_t TAPS>
void im2col_pair_rows(std::size_t rows, std::size_t run_time_taps, BitWord* words) {
  const std::size_t taps = TAPS != 0 ? TAPS : run_time_taps, paired = (taps + 1) / 2;
  for (std::size_t r = 0; r < rows; ++r) {
    const BitWord* src = words + r * taps;
    BitWord* dst = words + r * paired;
    for (std::size_t i = 0; i + 1 < taps; i += 2) dst[i / 2] = src[i] | src[i + 1] << (kBitsPerWord / 2);
    if (taps % 2 != 0) dst[taps / 2] = src[taps - 1];
  }
}

}  // namespace

// Rows of `taps` one-word taps whose bits are all in the low half (<= 32
// channels, tail bits 0), packed in place into rows of (taps + 1) / 2 words:
// taps 2i and 2i + 1 in the low and high half of word i. Each word is written
// after the words it is made of were read, and never past them (row r's
// word i lands at r * paired + i <= r * taps + 2i), so the rows can share one buffer.
void BConv2d::im2col_pair_taps(std::size_t rows, std::size_t taps, BitWord* words) {
  if (taps == 9)  // 3x3 kernels
    im2col_pair_rows<9>(rows, taps, words);
  else
    im2col_pair_rows<0>(rows, taps, words);
}

void BConv2d::im2col_group(std::size_t row_begin, std::size_t rows, int group, const BitWord* input,
                           BitWord* cols) const {
  const std::size_t bit_offset = std::size_t(group) * in_c_group_;
  std::size_t n = row_begin / (std::size_t(out_h_) * out_w_);
  std::size_t rem = row_begin % (std::size_t(out_h_) * out_w_);
  int oh = static_cast<int>(rem / out_w_), ow = static_cast<int>(rem % out_w_);
  for (std::size_t r = 0; r < rows; ++r) {
    BitWord* dst = cols + r * k_words_;
    const BitWord* image = input + n * g_.in_h * g_.in_w * in_words_;
    for (int i = 0; i < g_.kernel_h; ++i) {
      const int ih = oh * g_.stride_h - g_.pad_top + i * g_.dilation_h;
      for (int j = 0; j < g_.kernel_w; ++j, dst += group_words_) {
        const int iw = ow * g_.stride_w - g_.pad_left + j * g_.dilation_w;
        if (ih < 0 || ih >= g_.in_h || iw < 0 || iw >= g_.in_w) {
          for (std::size_t w = 0; w < group_words_; ++w) dst[w] = pad_fill_[w];
        } else {
          const BitWord* pixel = image + (std::size_t(ih) * g_.in_w + iw) * in_words_;
          extract_bits(pixel, in_words_, bit_offset, group_words_, tail_mask_, dst);
        }
      }
    }
    if (++ow == out_w_) {
      ow = 0;
      if (++oh == out_h_) {
        oh = 0;
        ++n;
      }
    }
  }
}

void BConv2d::im2col_pixels(std::size_t row_begin, std::size_t rows, const BitWord* input,
                            BitWord* cols) const {
  PixelIm2col p;
  p.kernel_h = g_.kernel_h, p.kernel_w = g_.kernel_w, p.in_h = g_.in_h, p.in_w = g_.in_w;
  p.stride_h = g_.stride_h, p.stride_w = g_.stride_w, p.dilation_h = g_.dilation_h;
  p.dilation_w = g_.dilation_w, p.pad_top = g_.pad_top, p.pad_left = g_.pad_left;
  p.out_h = out_h_, p.out_w = out_w_;
  p.words = in_words_;  // == group_words_: one group
  p.k_words = k_words_;
  const int last_iw0 = p.in_w - 1 - (p.kernel_w - 1) * p.dilation_w;
  p.interior_end = last_iw0 + p.pad_left < 0 ? 0 : std::min(p.out_w, (last_iw0 + p.pad_left) / p.stride_w + 1);
  p.interior_begin = std::min(p.interior_end, (p.pad_left + p.stride_w - 1) / p.stride_w);
  p.fill = pad_fill_.data();
  // Fixed-size copies for 3x3 kernels over 64, 128, 256, 512 channels.
  const auto rows_fn = [&]() -> void (*)(const PixelIm2col&, std::size_t, std::size_t, const BitWord*, BitWord*) {
    if (p.kernel_h != 3 || p.kernel_w != 3) return im2col_rows<0, 0>;
    switch (p.words) {
      case 1: return im2col_rows<1, 3>;
      case 2: return im2col_rows<2, 3>;
      case 4: return im2col_rows<4, 3>;
      case 8: return im2col_rows<8, 3>;
      default: return im2col_rows<0, 3>;  // kernel size only: runs of run-time length
    }
  }();
  rows_fn(p, row_begin, rows, input, cols);
}

}  // namespace irnet
