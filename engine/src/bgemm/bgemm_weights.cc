// BgemmWeights: a layer's weights in the layout of its bgemm kernel.
#include <cstdint>

#include "bgemm/bgemm.h"

namespace irnet {

namespace {
constexpr std::size_t kPackAlignWords = 64 / sizeof(BitWord);
}  // namespace

BgemmWeights::BgemmWeights(const BgemmKernel& kernel, std::size_t groups, std::size_t N, std::size_t K,
                           const BitWord* B, std::size_t ldb, std::size_t group_stride) {
  if (kernel.pack == nullptr) {
    base_ = B;
    group_stride_ = group_stride;
    ld_ = ldb;
    return;
  }
  // Each group's panels start 64-byte aligned.
  const std::size_t words = kernel.packed_words(N, K);
  group_stride_ = (words + kPackAlignWords - 1) / kPackAlignWords * kPackAlignWords;
  storage_.assign(groups * group_stride_ + kPackAlignWords, 0);
  const auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
  BitWord* base = storage_.data() + (64 - address % 64) % 64 / sizeof(BitWord);
  for (std::size_t g = 0; g < groups; ++g) kernel.pack(N, K, B + g * group_stride, ldb, base + g * group_stride_);
  base_ = base;
  ld_ = K;
}

void bgemm_packing(const BgemmKernel& kernel, std::size_t M, std::size_t N, std::size_t K, const BitWord* A,
                   std::size_t lda, const BitWord* B, std::size_t ldb, std::int32_t* C, std::size_t ldc) {
  const BgemmWeights weights(kernel, 1, N, K, B, ldb, 0);
  kernel.run(M, N, K, A, lda, weights.group(0), weights.ld(), C, ldc);
}

}  // namespace irnet
