// Which fused epilogue rows (bconv_epilogue.h) this build and CPU have.
#include "bconv/bconv_epilogue.h"

#if defined(IRNET_ARCH_arm64)
#include "bconv/arm64/bconv_epilogue_neon_a64.h"
#elif defined(IRNET_ARCH_arm32)
#include "bconv/arm32/bconv_epilogue_neon_a32.h"
#elif defined(IRNET_ARCH_x86)
#include "bconv/x86/bconv_epilogue_avx2.h"
#include "cpu/cpu_features.h"
#endif

namespace irnet {

const FusedEpilogueKernel* fused_epilogue_kernel() {
#if defined(IRNET_ARCH_arm64)
  static const FusedEpilogueKernel kNeonA64 = {"bconv_epilogue_neon_a64", bconv_epilogue_float_rows_neon_a64,
                                               bconv_epilogue_threshold_rows_neon_a64};
  return &kNeonA64;
#elif defined(IRNET_ARCH_arm32)
  static const FusedEpilogueKernel kNeonA32 = {"bconv_epilogue_neon_a32", bconv_epilogue_float_rows_neon_a32,
                                               bconv_epilogue_threshold_rows_neon_a32,
                                               bconv_epilogue_float_constants_ok_neon_a32};
  return &kNeonA32;
#elif defined(IRNET_ARCH_x86)
  static const FusedEpilogueKernel kAvx2 = {"bconv_epilogue_avx2", bconv_epilogue_float_rows_avx2,
                                            bconv_epilogue_threshold_rows_avx2};
  static const FusedEpilogueKernel* const kernel = cpu_runs_avx2_files() ? &kAvx2 : nullptr;
  return kernel;
#else
  return nullptr;
#endif
}

}  // namespace irnet
