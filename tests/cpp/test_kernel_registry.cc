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
#include "irb_test_writer.h"
#include "irnet/kernels.h"
#include "irnet/model.h"

namespace {

void look_up_a_kernel() { irnet::selected_kernel("bgemm"); }

// A model whose first kernel user is a SignPack node.
const char* write_sign_model() {
  irnet_test::IrbTestWriter w;
  const auto x = w.tensor("x", 1, {1, 2, 2, 8}, 1);
  const auto xb = w.tensor("xb", 3, {1, 2, 2, 8}, 1);
  const auto y = w.tensor("y", 1, {1, 2, 2, 8}, 1);
  w.node("SignPack", "sign", {x}, {xb});
  w.node("Relu", "relu", {x}, {y});
  w.io({x}, {y});
  const char* path = "test_kernel_registry_sign.irb";
  irnet_test::IrbTestWriter::save(w.build(), path);
  return path;
}

void load_a_model() { irnet::Model::load(write_sign_model(), 1); }

// In a child process: set IRNET_KERNELS=spec, run `use` (which uses the
// kernels), and exit 0 iff that throws irnet::Error whose message starts with
// `prefix` and contains `expected`.
bool child_rejects(const char* spec, const std::string& expected, void (*use)() = look_up_a_kernel,
                   const std::string& prefix = "") {
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("IRNET_KERNELS", spec, 1);
    int code = 1;
    try {
      use();
    } catch (const irnet::Error& e) {
      const std::string what = e.what();
      code = what.find(expected) != std::string::npos && what.rfind(prefix, 0) == 0 ? 0 : 2;
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

TEST(bad_env_value_at_model_load_names_the_variable_not_a_layer) {
  const std::string message = "environment variable IRNET_KERNELS: unknown kernel 'bogus' for family 'bgemm'";
  CHECK(child_rejects("bgemm=bogus", message, load_a_model, message));
  CHECK(child_rejects("bgemm=bogus", "bgemm_4x4_scalar, bgemm_ref, auto", load_a_model));
  CHECK(child_rejects("pool=bogus", "pool_portable", load_a_model, "environment variable IRNET_KERNELS"));
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
