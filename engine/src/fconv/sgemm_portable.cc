// The portable sgemm micro-kernel: plain C++ that any compiler vectorizes
// across the nr columns. Without FMA contraction (-ffp-contract=off) it performs
// exactly the float operations of sgemm_ref / conv2d_f32_ref, in the same order.
#include <algorithm>
#include <iterator>

#include "cpu/kernel_config.h"
#include "fconv/sgemm.h"

namespace irnet {
namespace {

constexpr std::size_t kMr = 4;
constexpr std::size_t kNr = 8;

void sgemm_4x8_portable(std::size_t K, const float* a, const float* b, const float* bias,
                        float lo, float hi, float* C, std::size_t ldc, std::size_t rows,
                        std::size_t cols) {
  float acc[kMr][kNr] = {};
  for (std::size_t k = 0; k < K; ++k, a += kMr, b += kNr)
    for (std::size_t r = 0; r < kMr; ++r)
      for (std::size_t j = 0; j < kNr; ++j) acc[r][j] += a[r] * b[j];
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j)
      C[r * ldc + j] = std::min(std::max(acc[r][j] + bias[j], lo), hi);
}

const SgemmKernel kKernel4x8 = {"sgemm_4x8_portable", always_supported, kMr, kNr, 1, SgemmALayout::kKMajor,
                                &sgemm_4x8_portable};
const SgemmKernel* const kKernels[] = {&kKernel4x8};

}  // namespace

extern const KernelTable<SgemmKernel> kSgemmKernelsPortable = {kKernels, std::size(kKernels)};

}  // namespace irnet
