// irnet/kernels.h — which compute kernels this build has and which one runs.
//
// Kernel families: "bitpack" (float signs -> bits), "bgemm" (xor-popcount
// binary GEMM), and the float "sgemm". Each family has several variants named
// by tile and ISA (e.g. bgemm_4x4_scalar, bgemm_4x4_avx2, bgemm_8x4_avx512);
// the best one the CPU supports is selected on first use. Override it with
// force_kernel() or the environment variable
//   IRNET_KERNELS="bgemm=bgemm_4x4_scalar,bitpack=pack_signs_portable"
// (read once, on first use of any kernel). Layers bind their kernels when they
// are built (at model load), so force before loading a model.
#pragma once

#include <string>
#include <vector>

namespace irnet {

struct KernelVariantInfo {
  std::string name;
  bool supported = false;  // this CPU can run it
  bool selected = false;   // it is the one in use
};

// The family names, e.g. {"bitpack", "bgemm", "sgemm"}.
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
