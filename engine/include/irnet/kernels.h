// irnet/kernels.h — which compute kernels this build has and which one runs.
//
// Kernel families, each with variants named by tile and ISA:
//   bitpack         float signs -> bits       e.g. pack_signs_avx2, pack_signs_portable
//   bgemm           xor-popcount binary GEMM  e.g. bgemm_4x8_avx2, bgemm_4x4_neon_a64, bgemm_4x4_scalar
//   sgemm           float GEMM                e.g. sgemm_6x16_avx2, sgemm_4x8_portable
//   bconv_epilogue  binary conv output rows   e.g. bconv_epilogue_avx2, bconv_epilogue_portable
//   phase_conv      direct 3- and 7-wide/2 float convs (the stems), e.g. phase_conv_4x24_avx2, or im2col_sgemm
//   pool            MaxPool / AveragePool     e.g. pool_neon_a32, pool_portable
//   crc32           the model file checksum   e.g. crc32_pclmul, crc32_slicing
// kernel_variants() lists what this build has. The best variant the CPU
// supports is selected unless overridden with force_kernel() or the
// environment variable
//   IRNET_KERNELS="bgemm=bgemm_4x4_scalar,pool=pool_portable"
// (read once, on first use of any kernel). A model takes the selection when it
// is loaded (its summary() lists it): force before loading a model.
#pragma once

#include <string>
#include <vector>

namespace irnet {

struct KernelVariantInfo {
  std::string name;
  bool supported = false;  // this CPU can run it
  bool selected = false;   // it is the one in use
};

// The family names: {"bitpack", "bgemm", "sgemm", "bconv_epilogue", "phase_conv", "pool", "crc32"}.
std::vector<std::string> kernel_families();

// Every variant compiled into this build, best first. Throws irnet::Error
// (kInvalidArgument) for an unknown family, listing the known ones.
std::vector<KernelVariantInfo> kernel_variants(const std::string& family);

// Name of the variant currently selected for `family`.
std::string selected_kernel(const std::string& family);

// Selects variant `name` of `family` for everything built afterwards.
// name "auto" restores the automatic choice. Throws irnet::Error listing the
// valid names when `name` is unknown or not supported by this CPU.
void force_kernel(const std::string& family, const std::string& name);

// The CPU features detected, e.g. "x86-64: popcnt avx2 fma bmi2".
std::string cpu_description();

}  // namespace irnet
