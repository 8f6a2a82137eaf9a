// Packed single-precision GEMM: the core of every float convolution and Gemm.
//
//   C[m][n] = min(max(sum_k A[m][k] * B[k][n] + bias[n], lo), hi)
//
// The sum runs over k = 0, 1, ..., K-1 in order, starting from 0; the bias is
// added after the sum, then the clamp (lo = -inf, hi = +inf is "no activation",
// lo = 0 is ReLU, [lo, hi] is Clip/Hardtanh). The portable kernel does exactly
// these float operations (no FMA: the build uses -ffp-contract=off), so it
// matches the plain reference bit for bit; the SIMD kernels use fused
// multiply-add and differ from it by rounding only.
//
// Both operands are packed so that the micro-kernel streams them linearly:
//   B panel:       nr columns of B, k-major:    b_panel[k*nr + j] = B[k][n0 + j]
//   A micro-panel: mr rows of A, in the kernel's layout:
//     kKMajor      a_panel[k*mr + r]    = A[m0 + r][k]   (broadcast-style kernels)
//     kRowMajor    a_panel[r*Kp + k]    = A[m0 + r][k]   (kernels that load 4
//                  consecutive k of a row into one vector and use its lanes)
// Kp is K rounded up to the kernel's k_align; the micro-kernel is called with
// Kp and both panels hold zeros for k in [K, Kp), which add exact zeros.
// Rows past M and columns past N are zero in the panels; the micro-kernel
// computes the full mr×nr tile and stores only rows × cols of it.
//
// B holds the layer's weights: it is packed once, when the layer is built.
// A holds activations (im2col rows for a convolution): the conv driver writes
// them straight into the packed layout, one micro-panel at a time.
#pragma once

#include <cstddef>
#include <vector>

namespace irnet {

// Computes one mr×nr tile of C = clamp(A_panel · B_panel + bias, lo, hi) and
// stores its first `rows` rows and `cols` columns at C (row stride ldc).
// bias_panel has nr entries (zero past N).
using SgemmMicroKernelFn = void (*)(std::size_t K, const float* a_panel, const float* b_panel,
                                    const float* bias_panel, float lo, float hi, float* C,
                                    std::size_t ldc, std::size_t rows, std::size_t cols);

enum class SgemmALayout { kKMajor, kRowMajor };

// One micro-kernel and its tile, defined next to the kernel's code.
// A variant of the "sgemm" kernel family (cpu/kernel_config.h), defined next to its code.
struct SgemmKernel {
  const char* name;       // e.g. "sgemm_6x16_avx2"; tile rows × cols, then the ISA
  bool (*supported)();    // can this CPU run it
  std::size_t mr;         // rows of the C tile
  std::size_t nr;         // columns of the C tile
  std::size_t k_align;    // the kernel's K must be a multiple of this
  SgemmALayout a_layout;  // layout of the A micro-panel
  SgemmMicroKernelFn micro;

  std::size_t padded_k(std::size_t K) const { return (K + k_align - 1) / k_align * k_align; }
  // Index of A[r][k] inside a micro-panel for a K of padded_k(K) = kp.
  std::size_t a_index(std::size_t r, std::size_t k, std::size_t kp) const {
    return a_layout == SgemmALayout::kKMajor ? k * mr + r : r * kp + k;
  }
};

// Packs B[k][n] = w[n*ldw + k] (the weights as stored: one row of K values per
// output column n) into ceil(N/nr) panels of kp*nr floats (kp >= K), zero-padded:
// writes every one of the ceil(N/nr)*kp*nr floats at `packed`.
void sgemm_pack_b(const float* w, std::size_t ldw, std::size_t K, std::size_t kp, std::size_t N,
                  std::size_t nr, float* packed);
// Copies bias[0..N) (nullptr = zeros) into ceil(N/nr) panels of nr floats.
std::vector<float> sgemm_pack_bias(const float* bias, std::size_t N, std::size_t nr);

// The plain reference on unpacked row-major A [M][lda] and w rows [N][ldw]:
// C[m][n] = clamp(sum_k A[m][k]*w[n][k] + bias[n], lo, hi). Used by tests.
void sgemm_ref(std::size_t M, std::size_t N, std::size_t K, const float* A, std::size_t lda,
               const float* w, std::size_t ldw, const float* bias, float lo, float hi, float* C,
               std::size_t ldc);

}  // namespace irnet
