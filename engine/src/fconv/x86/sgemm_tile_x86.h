// The x86 sgemm micro-kernel, written once over a vector type V (AVX2 __m256 or
// AVX-512 __m512) and instantiated in sgemm_avx2.cc / sgemm_avx512.cc, each
// compiled with its own ISA flags.
//
// Tile: MR rows × NV vectors of V::kWidth columns, all in accumulator registers
// (AVX2 6×16: 12 ymm accumulators; AVX-512 12×32: 24 zmm). Per k step the kernel
// loads NV vectors of the B panel, broadcasts each of the MR values A[r][k] of
// the A panel and issues MR·NV fused multiply-adds.
//
// The broadcast reads one float from anywhere, so the A panel may be k-major
// (A[r][k] at a[k*MR + r]) or row-major (at a[r*K + k]: MR row pointers that
// advance together). Row-major is what the conv's im2col writes fastest: each
// kernel row's taps are one contiguous run of the NHWC input (kw·in_c floats,
// 21 for the 7×7×3 stem), copied with vector moves instead of MR-strided scalar
// stores.
//
// Everything here is in an anonymous namespace on purpose: each including
// file gets its own copy compiled for its ISA, so the linker can never merge
// an AVX-512 instantiation into code that must run on an AVX2-only CPU.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace irnet {
namespace {

template <class V, std::size_t MR, std::size_t NV, bool kRowMajorA>
void sgemm_tile_x86(std::size_t K, const float* a, const float* b, const float* bias, float lo,
                    float hi, float* C, std::size_t ldc, std::size_t rows, std::size_t cols) {
  using Reg = typename V::Reg;
  constexpr std::size_t kW = V::kWidth;
  constexpr std::size_t kNr = NV * kW;
  Reg acc[MR][NV];
#pragma GCC unroll 32
  for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V::zero();

  // Element A[r][k] is at a[k * k_step + r * r_step].
  const std::size_t k_step = kRowMajorA ? 1 : MR, r_step = kRowMajorA ? K : 1;
  for (std::size_t k = 0; k < K; ++k, a += k_step, b += kNr) {
    Reg bv[NV];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v) bv[v] = V::load(b + v * kW);
#pragma GCC unroll 32
    for (std::size_t r = 0; r < MR; ++r) {
      const Reg av = V::broadcast(a + r * r_step);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V::fmadd(av, bv[v], acc[r][v]);
    }
  }

  // Epilogue: + bias, then clamp to [lo, hi] (same order as the reference).
  // The bound is the first operand: x86 max/min return the second operand
  // when either is NaN, so a NaN sum comes out NaN, as in the reference.
  const Reg lo_v = V::set1(lo), hi_v = V::set1(hi);
  Reg bias_v[NV];
#pragma GCC unroll 4
  for (std::size_t v = 0; v < NV; ++v) bias_v[v] = V::load(bias + v * kW);
#pragma GCC unroll 32
  for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < NV; ++v)
      acc[r][v] = V::min(hi_v, V::max(lo_v, V::add(acc[r][v], bias_v[v])));

  if (rows == MR && cols == kNr) {
#pragma GCC unroll 32
    for (std::size_t r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (std::size_t v = 0; v < NV; ++v) V::store(C + r * ldc + v * kW, acc[r][v]);
    return;
  }
  alignas(64) float tile[MR * kNr];
  for (std::size_t r = 0; r < MR; ++r)
    for (std::size_t v = 0; v < NV; ++v) V::store(tile + r * kNr + v * kW, acc[r][v]);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) C[r * ldc + j] = tile[r * kNr + j];
}

}  // namespace
}  // namespace irnet
