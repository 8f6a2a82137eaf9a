// Kernel configuration: one typed descriptor per kernel variant, grouped in
// families, and the choice of one variant per family for a model.
//
// A family is one descriptor type, declared next to its kernels:
//   family           descriptor            what a variant pairs
//   bitpack          BitpackKernel          float signs -> bits        (bitpack/bitpack.h)
//   bgemm            BgemmKernel            xor-popcount GEMM, its weight packing, tile (bgemm/bgemm.h)
//   sgemm            SgemmKernel            float GEMM micro-kernel, tile, A layout (fconv/sgemm.h)
//   bconv_epilogue   BconvEpilogueKernel    BConv2d's output rows      (bconv/bconv_epilogue.h)
//   phase_conv       PhaseConvKernel        direct 3- and 7-wide/2 float convs (fconv/phase_conv.h)
//   pool             PoolKernel             MaxPool / AveragePool rows (pool/pool_kernel.h)
//   crc32            Crc32Kernel            the .irb checksum          (format/crc32.h)
// Every descriptor starts with `const char* name` (unique within its family:
// tile and ISA, e.g. bgemm_4x8_avx2) and `bool (*supported)()` (can this CPU
// run it: cpu/cpu_features.h). A family lists its variants best first; the
// first supported one is selected unless overridden
//   - by API:      force_kernel("bgemm", "bgemm_4x4_scalar")        (irnet/kernels.h)
//   - by env var:  IRNET_KERNELS="bgemm=bgemm_4x4_scalar,pool=pool_portable"
// An unknown or unsupported name throws irnet::Error naming the family (and
// IRNET_KERNELS when it came from there) and listing the valid names.
//
// A model takes selected_kernels() once, when it is loaded (KernelConfig):
// ops bind the descriptors' function pointers and pack their weights for
// them while they are built, so a later force_kernel affects models loaded
// afterwards only, and running never looks a kernel up.
//
// Where the variant tables come from: each family's tables are
// `const KernelTable<Descriptor>` objects with external linkage in namespace
// irnet, one per architecture folder (defined only when that folder is
// compiled: CMake sets IRNET_ARCH_<arch> exactly then) plus a portable one,
// declared in config/kernel_config.cc, which lists them in priority order and
// implements the selection declared here (it is the one file that knows every
// family, so it sits above the kernel folders; this header only names the
// descriptor types, so every layer can include it). A table
// is an array of pointers to descriptor objects, so it is constant-initialized:
//
//   const BgemmKernel kBgemm4x4NeonA64 = {"bgemm_4x4_neon_a64", always_supported, &bgemm_4x4_neon_a64, 4, 4};
//   const BgemmKernel* const kKernels[] = {&kBgemm4x4NeonA64};
//   extern const KernelTable<BgemmKernel> kBgemmKernelsArm64 = {kKernels, std::size(kKernels)};
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace irnet {

struct BitpackKernel;
struct BgemmKernel;
struct SgemmKernel;
struct BconvEpilogueKernel;
struct PhaseConvKernel;
struct PoolKernel;
struct Crc32Kernel;

template <typename Kernel>
struct KernelTable {
  const Kernel* const* kernels;
  std::size_t count;
};

bool always_supported();

// One variant of every family: what a model runs with.
struct KernelConfig {
  const BitpackKernel* bitpack = nullptr;
  const BgemmKernel* bgemm = nullptr;
  const SgemmKernel* sgemm = nullptr;
  const BconvEpilogueKernel* bconv_epilogue = nullptr;
  const PhaseConvKernel* phase_conv = nullptr;
  const PoolKernel* pool = nullptr;
  const Crc32Kernel* crc32 = nullptr;

  // (family, variant name) for every family, in kernel_families() order.
  std::vector<std::pair<std::string, std::string>> names() const;
};

// The variant selected now in every family (CPU features, IRNET_KERNELS,
// force_kernel). Throws irnet::Error for a bad IRNET_KERNELS.
KernelConfig selected_kernels();

// Every variant of a family that this build has and this CPU runs, best first
// (tests and benchmarks run each).
template <typename Kernel>
std::vector<const Kernel*> supported_kernels();

}  // namespace irnet
