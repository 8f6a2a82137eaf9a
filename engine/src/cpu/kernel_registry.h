// Kernel registry: run-time choice among the compiled variants of each kernel family.
//
// A *family* ("bitpack", "bgemm", "sgemm") is one function signature
// (PackSignsFn, BgemmFn, ...). Each variant has a unique name saying its tile
// and ISA (bgemm_4x4_scalar, bgemm_4x4_avx2, bgemm_8x4_avx512, ...), a
// supported() predicate and the function. The variants of a family are listed
// in priority order, best first; on first use the first supported one is
// selected. The choice can be overridden
//   - by API:      force_kernel("bgemm", "bgemm_4x4_scalar")    (irnet/kernels.h)
//   - by env var:  IRNET_KERNELS="bgemm=bgemm_4x4_avx2,bitpack=pack_signs_portable"
// An unknown or unsupported name throws irnet::Error listing the valid ones.
// Layers look their kernel up when they are constructed (BConv2d keeps the
// bgemm pointer), so force a kernel *before* building the layers that use it.
//
// ---------------------------------------------------------------------------
// Where the variant tables come from (the contract for the kernel authors)
//
// Every table is a `const KernelTable` with external linkage in namespace irnet,
// defined in a .cc that is compiled only for its architecture. The registry
// (kernel_registry.cc) lists, per family, the tables in priority order:
//
//   family    tables, best first                                   defined in
//   bitpack   kBitpackKernelsX86     (only when IRNET_ARCH_x86)     bitpack/x86/
//             kBitpackKernelsArm64   (only when IRNET_ARCH_arm64)   bitpack/arm64/
//             kBitpackKernelsArm32   (only when IRNET_ARCH_arm32)   bitpack/arm32/
//             kBitpackKernelsPortable (always)                      bitpack/
//   bitpack_threshold  kBitpackThresholdKernels{X86,Arm64,Arm32,Portable}, the same way
//   bgemm     kBgemmKernelsX86 / kBgemmKernelsArm64 / kBgemmKernelsArm32 as above,
//             then kBgemmKernelsPortable (always)                   bgemm/
//
// IRNET_ARCH_<arch> is the compile definition CMake sets exactly when the
// <arch>/ folders are compiled, so a table is referenced iff it is built.
// A NEON author therefore writes, in e.g. engine/src/bgemm/arm64/bgemm_neon_a64.cc:
//
//   #include "cpu/kernel_registry.h"
//   namespace irnet {
//   void bgemm_4x4_neon_a64(std::size_t M, ...);          // a BgemmFn
//   static const KernelVariant kVariants[] = {
//       {"bgemm_8x4_neon_a64", always_supported, as_kernel_fn(&bgemm_8x4_neon_a64)},
//       {"bgemm_4x4_neon_a64", always_supported, as_kernel_fn(&bgemm_4x4_neon_a64)},
//   };
//   extern const KernelTable kBgemmKernelsArm64 = {kVariants, std::size(kVariants)};
//   }
//
// and the same for kBitpackKernelsArm64 (PackSignsFn variants), and the
// *Arm32 tables in the arm32/ folders. Tables must be constant-initialized
// (plain aggregates of pointers, as above), so there is no static-init order issue.
//
// A new family (e.g. the float engineer's "sgemm"): declare its tables below,
// define them, and add one row to family_tables() in kernel_registry.cc.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace irnet {

// A type-erased kernel function pointer. Converting a function pointer to
// another function pointer type and back is well-defined; selected_kernel_fn<Fn>()
// converts back to the family's real signature.
using AnyKernelFn = void (*)();

template <typename Fn>
AnyKernelFn as_kernel_fn(Fn fn) {
  return reinterpret_cast<AnyKernelFn>(fn);
}

struct KernelVariant {
  const char* name;        // unique within its family
  bool (*supported)();     // can this CPU run it? (cheap; cached by the registry)
  AnyKernelFn fn;
};

struct KernelTable {
  const KernelVariant* variants;
  std::size_t count;
};

bool always_supported();

// ---- tables (see the contract above) ---------------------------------------
extern const KernelTable kBitpackKernelsPortable;
extern const KernelTable kBitpackThresholdKernelsPortable;
extern const KernelTable kBgemmKernelsPortable;
extern const KernelTable kSgemmKernelsPortable;  // fconv/ (variants return const SgemmKernel*)
#if defined(IRNET_ARCH_x86)
extern const KernelTable kBitpackKernelsX86;
extern const KernelTable kBitpackThresholdKernelsX86;
extern const KernelTable kBgemmKernelsX86;
extern const KernelTable kSgemmKernelsX86;
#endif
#if defined(IRNET_ARCH_arm64)
extern const KernelTable kBitpackKernelsArm64;
extern const KernelTable kBitpackThresholdKernelsArm64;
extern const KernelTable kBgemmKernelsArm64;
extern const KernelTable kSgemmKernelsArm64;
#endif
#if defined(IRNET_ARCH_arm32)
extern const KernelTable kBitpackKernelsArm32;
extern const KernelTable kBitpackThresholdKernelsArm32;
extern const KernelTable kBgemmKernelsArm32;
extern const KernelTable kSgemmKernelsArm32;
#endif

// ---- lookup -----------------------------------------------------------------
// The selected variant of `family` (applies IRNET_KERNELS on first use).
// Throws irnet::Error for an unknown family.
const KernelVariant& selected_variant(const std::string& family);

template <typename Fn>
Fn selected_kernel_fn(const std::string& family) {
  return reinterpret_cast<Fn>(selected_variant(family).fn);
}

// All variants of a family compiled into this build, in priority order.
std::vector<const KernelVariant*> family_variants(const std::string& family);

}  // namespace irnet
