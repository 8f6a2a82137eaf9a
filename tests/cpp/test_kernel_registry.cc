// The IRNET_KERNELS override and CPU feature detection.
//
// IRNET_KERNELS is read once per process, on the first kernel lookup, so the
// bad values are tried in forked children (before this process ever touches
// the registry), and the good value is set by the test that runs next.
// TESTs run in file order.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "check.h"
#include "cpu/cpu_features.h"
#include "irnet/error.h"
#include "irnet/kernels.h"

namespace {

// In a child process: set IRNET_KERNELS=spec, look up a kernel, and exit 0
// iff that throws irnet::Error whose message contains `expected`.
bool child_rejects(const char* spec, const std::string& expected) {
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("IRNET_KERNELS", spec, 1);
    int code = 1;
    try {
      irnet::selected_kernel("bgemm");
    } catch (const irnet::Error& e) {
      code = std::string(e.what()).find(expected) != std::string::npos ? 0 : 2;
      if (code != 0) std::fprintf(stderr, "message was: %s\n", e.what());
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST(bad_env_values_throw_listing_valid_names) {
  CHECK(child_rejects("bgemm=bgemm_9x9_magic", "IRNET_KERNELS: unknown kernel 'bgemm_9x9_magic'"));
  CHECK(child_rejects("bgemm=bgemm_9x9_magic", "supported: "));
  CHECK(child_rejects("bgemm=bgemm_9x9_magic", "bgemm_4x4_scalar"));
  CHECK(child_rejects("nosuch=x", "unknown kernel family 'nosuch'"));
  CHECK(child_rejects("bgemm", "'bgemm' is not of the form family=kernel"));
}

TEST(env_override_selects_named_kernels) {
  setenv("IRNET_KERNELS", "bitpack=pack_signs_ref,,bgemm=bgemm_ref", 1);
  CHECK_EQ(irnet::selected_kernel("bgemm"), std::string("bgemm_ref"));
  CHECK_EQ(irnet::selected_kernel("bitpack"), std::string("pack_signs_ref"));
  irnet::force_kernel("bgemm", "auto");
  CHECK(irnet::selected_kernel("bgemm") != std::string("bgemm_ref"));
}

TEST(cpu_features_are_consistent) {
  const irnet::CpuFeatures& f = irnet::cpu_features();
  // Every AVX-512 extension requires the foundation; FMA and AVX2 need OS YMM support alike.
  CHECK(!(f.avx512bw || f.avx512vl || f.avx512dq || f.avx512vpopcntdq) || f.avx512f);
  CHECK(!f.avx512f || f.avx2);
#if defined(__aarch64__)
  CHECK(f.neon);
  CHECK_EQ(irnet::cpu_description().rfind("aarch64:", 0), std::size_t(0));
#elif defined(__x86_64__)
  CHECK(!f.neon);
  CHECK_EQ(irnet::cpu_description().rfind("x86-64:", 0), std::size_t(0));
  CHECK_EQ(f.avx2, __builtin_cpu_supports("avx2") != 0);
  CHECK_EQ(f.popcnt, __builtin_cpu_supports("popcnt") != 0);
#endif
}

int main() { return irnet_test::run_all(); }
