// Binary GEMM: the xor-popcount core of every binary convolution and
// binary fully-connected layer.
//
// For ±1 vectors a, w of K values packed as bits (bit 1 <=> -1),
//   a·w = K - 2 * popcount(a XOR w)
// because each position where the signs agree adds +1 and each where they
// differ adds -1. A bgemm micro-kernel computes only the popcounts; the
// caller (bconv/, which also corrects for padding) turns them into dot products.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/types.h"

namespace irnet {

// C[m*ldc + n] = sum_{k<K} popcount(A[m*lda + k] ^ B[n*ldb + k])   for m<M, n<N.
// A: M rows of K words (im2col'd activations); B: the weights, N rows of K
// words (one row per output channel), in the layout of the kernel's
// BgemmKernel::pack, or as stored in the .irb when it has none.
// Any M, N, K >= 0; no alignment requirement on A and C. C is overwritten, not accumulated.
using BgemmFn = void (*)(std::size_t M, std::size_t N, std::size_t K,
                         const BitWord* A, std::size_t lda,
                         const BitWord* B, std::size_t ldb,
                         std::int32_t* C, std::size_t ldc);

// The plain reference: three loops, one popcount per word.
void bgemm_ref(std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
               std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C,
               std::size_t ldc);

// Weight packing: the N x K stored weight rows (row stride ldb) into a
// kernel's own layout, `packed_words(N, K)` words at a 64-byte aligned `out`.
using BgemmPackFn = void (*)(std::size_t N, std::size_t K, const BitWord* B, std::size_t ldb, BitWord* out);
using BgemmPackedWordsFn = std::size_t (*)(std::size_t N, std::size_t K);

// A variant of the "bgemm" kernel family (cpu/kernel_config.h).
struct BgemmKernel {
  const char* name;     // e.g. "bgemm_4x8_avx2": tile rows x channels, then the ISA
  bool (*supported)();  // can this CPU run it
  BgemmFn run;
  int tile_rows, tile_channels;  // the C tile one register block computes
  // The weight layout `run` reads. nullptr: the stored rows themselves (B, ldb
  // as stored). Otherwise run gets the packed weights and ldb = K.
  BgemmPackedWordsFn packed_words = nullptr;
  BgemmPackFn pack = nullptr;
  // Optional: `run` for operands whose every word has its bits in the low 32
  // (the rest 0 in A and B: a 1x1 conv over <= 32 channels, K = 1), the same C
  // from fewer instructions. nullptr: the caller uses run.
  BgemmFn run_half_words = nullptr;
};

// The weights of a layer's bgemm calls in the layout its kernel reads,
// packed once when the layer is built: `groups` matrices of N rows x K words,
// matrix g of the stored weights at B + g * group_stride (row stride ldb).
// Without a packing function it points at the stored weights, which must
// outlive it.
class BgemmWeights {
 public:
  BgemmWeights() = default;
  BgemmWeights(BgemmWeights&&) = default;  // the packed words stay where they are
  BgemmWeights& operator=(BgemmWeights&&) = default;
  BgemmWeights(const BgemmWeights&) = delete;
  BgemmWeights& operator=(const BgemmWeights&) = delete;
  BgemmWeights(const BgemmKernel& kernel, std::size_t groups, std::size_t N, std::size_t K, const BitWord* B,
               std::size_t ldb, std::size_t group_stride);
  const BitWord* group(std::size_t g) const { return base_ + g * group_stride_; }
  std::size_t ld() const { return ld_; }

 private:
  std::vector<BitWord> storage_;  // packed weights (+ room to align them to 64 bytes)
  const BitWord* base_ = nullptr;
  std::size_t group_stride_ = 0, ld_ = 0;
};

// Packs B for `kernel` and runs it: for tests and benchmarks (allocates).
void bgemm_packing(const BgemmKernel& kernel, std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                   std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc);

}  // namespace irnet
