#include "cpu/kernel_config.h"

#include <atomic>
#include <cstdlib>
#include <initializer_list>
#include <mutex>
#include <tuple>

#include "bconv/bconv_epilogue.h"
#include "bgemm/bgemm.h"
#include "bitpack/bitpack.h"
#include "core/check.h"
#include "cpu/cpu_features.h"
#include "fconv/phase_conv.h"
#include "fconv/sgemm.h"
#include "format/crc32.h"
#include "irnet/kernels.h"
#include "pool/pool_kernel.h"

namespace irnet {

bool always_supported() { return true; }

// ---- tables (see the contract in kernel_config.h) ----------------------------
extern const KernelTable<BitpackKernel> kBitpackKernelsPortable;
extern const KernelTable<BgemmKernel> kBgemmKernelsPortable;
extern const KernelTable<SgemmKernel> kSgemmKernelsPortable;
extern const KernelTable<BconvEpilogueKernel> kBconvEpilogueKernelsPortable;
extern const KernelTable<PhaseConvKernel> kPhaseConvKernelsPortable;
extern const KernelTable<PoolKernel> kPoolKernelsPortable;
extern const KernelTable<Crc32Kernel> kCrc32KernelsPortable;
// The tables every architecture folder defines.
#define IRNET_DECLARE_ARCH_TABLES(Arch)                                       \
  extern const KernelTable<BitpackKernel> kBitpackKernels##Arch;              \
  extern const KernelTable<BgemmKernel> kBgemmKernels##Arch;                  \
  extern const KernelTable<SgemmKernel> kSgemmKernels##Arch;                  \
  extern const KernelTable<BconvEpilogueKernel> kBconvEpilogueKernels##Arch; \
  extern const KernelTable<PhaseConvKernel> kPhaseConvKernels##Arch;         \
  extern const KernelTable<PoolKernel> kPoolKernels##Arch;
#if defined(IRNET_ARCH_x86)
IRNET_DECLARE_ARCH_TABLES(X86)
extern const KernelTable<Crc32Kernel> kCrc32KernelsX86;
#define IRNET_ARCH_TABLE(family) family##X86,
#elif defined(IRNET_ARCH_arm64)
IRNET_DECLARE_ARCH_TABLES(Arm64)
extern const KernelTable<Crc32Kernel> kCrc32KernelsArm64;
#define IRNET_ARCH_TABLE(family) family##Arm64,
#elif defined(IRNET_ARCH_arm32)
IRNET_DECLARE_ARCH_TABLES(Arm32)
#define IRNET_ARCH_TABLE(family) family##Arm32,
#else
#define IRNET_ARCH_TABLE(family)
#endif

namespace {

// The name-level view of a family, for the string API and IRNET_KERNELS.
class FamilyBase {
 public:
  explicit FamilyBase(const char* name) : name_(name) {}
  virtual ~FamilyBase() = default;
  const char* name() const { return name_; }
  virtual std::size_t size() const = 0;
  virtual const char* variant_name(std::size_t i) const = 0;
  bool supported(std::size_t i) const { return supported_[i]; }
  std::size_t selected() const { return selected_.load(); }

  void force(const std::string& variant) {
    if (variant == "auto") {
      selected_.store(best_supported());
      return;
    }
    for (std::size_t i = 0; i < size(); ++i) {
      if (variant != variant_name(i)) continue;
      if (!supported_[i])
        fail(ErrorKind::kInvalidArgument, "kernel '", variant, "' of family '", name_,
             "' is not supported by this CPU (", cpu_description(), "); supported: ", supported_names());
      selected_.store(i);
      return;
    }
    fail(ErrorKind::kInvalidArgument, "unknown kernel '", variant, "' for family '", name_,
         "'; supported: ", supported_names());
  }

 protected:
  // Called by the derived constructor once the variants are known.
  void init(std::vector<bool> supported) {
    supported_ = std::move(supported);
    selected_.store(best_supported());
  }

 private:
  std::size_t best_supported() const {
    for (std::size_t i = 0; i < size(); ++i)
      if (supported_[i]) return i;
    fail(ErrorKind::kInternal, "no supported kernel in family '", name_, "'");
  }
  std::string supported_names() const {
    std::string s;
    for (std::size_t i = 0; i < size(); ++i)
      if (supported_[i]) s += (s.empty() ? "" : ", ") + std::string(variant_name(i));
    return s + ", auto";
  }

  const char* name_;
  std::vector<bool> supported_;
  std::atomic<std::size_t> selected_{0};
};

template <typename Kernel>
class Family final : public FamilyBase {
 public:
  Family(const char* name, std::initializer_list<const KernelTable<Kernel>*> tables) : FamilyBase(name) {
    std::vector<bool> supported;
    for (const KernelTable<Kernel>* table : tables)
      for (std::size_t i = 0; i < table->count; ++i) {
        kernels_.push_back(table->kernels[i]);
        supported.push_back(table->kernels[i]->supported());
      }
    init(std::move(supported));
  }
  std::size_t size() const override { return kernels_.size(); }
  const char* variant_name(std::size_t i) const override { return kernels_[i]->name; }
  const Kernel* selected_kernel() const { return kernels_[selected()]; }
  std::vector<const Kernel*> supported_kernels() const {
    std::vector<const Kernel*> out;
    for (std::size_t i = 0; i < size(); ++i)
      if (supported(i)) out.push_back(kernels_[i]);
    return out;
  }

 private:
  std::vector<const Kernel*> kernels_;  // best first
};

class Registry {
 public:
  static Registry& instance() {
    static Registry registry;  // thread-safe initialization
    registry.apply_env_once();
    return registry;
  }

  FamilyBase& family(const std::string& name) {
    for (FamilyBase* f : all_)
      if (name == f->name()) return *f;
    std::string known;
    for (const FamilyBase* f : all_) known += (known.empty() ? "" : ", ") + std::string(f->name());
    fail(ErrorKind::kInvalidArgument, "unknown kernel family '", name, "' (known: ", known, ")");
  }
  const std::vector<FamilyBase*>& families() const { return all_; }
  // Every family, in kernel_families() order: the one list that maps a
  // descriptor type to its family.
  auto members() { return std::tie(bitpack, bgemm, sgemm, bconv_epilogue, phase_conv, pool, crc32); }
  // The family whose descriptor type is Kernel.
  template <typename Kernel>
  Family<Kernel>& of() { return std::get<Family<Kernel>&>(members()); }

  Family<BitpackKernel> bitpack{"bitpack", {IRNET_ARCH_TABLE(&kBitpackKernels) & kBitpackKernelsPortable}};
  Family<BgemmKernel> bgemm{"bgemm", {IRNET_ARCH_TABLE(&kBgemmKernels) & kBgemmKernelsPortable}};
  Family<SgemmKernel> sgemm{"sgemm", {IRNET_ARCH_TABLE(&kSgemmKernels) & kSgemmKernelsPortable}};
  Family<BconvEpilogueKernel> bconv_epilogue{
      "bconv_epilogue", {IRNET_ARCH_TABLE(&kBconvEpilogueKernels) & kBconvEpilogueKernelsPortable}};
  Family<PhaseConvKernel> phase_conv{"phase_conv",
                                     {IRNET_ARCH_TABLE(&kPhaseConvKernels) & kPhaseConvKernelsPortable}};
  Family<PoolKernel> pool{"pool", {IRNET_ARCH_TABLE(&kPoolKernels) & kPoolKernelsPortable}};
#if defined(IRNET_ARCH_arm32)
  Family<Crc32Kernel> crc32{"crc32", {&kCrc32KernelsPortable}};
#else
  Family<Crc32Kernel> crc32{"crc32", {IRNET_ARCH_TABLE(&kCrc32Kernels) & kCrc32KernelsPortable}};
#endif

 private:
  Registry() : all_(std::apply([](auto&... f) { return std::vector<FamilyBase*>{&f...}; }, members())) {}

  // Applies IRNET_KERNELS once. Kept out of the constructor so that a bad
  // value is reported (thrown) at every use instead of poisoning the static.
  void apply_env_once() {
    std::call_once(env_once_, [this] { env_error_ = apply_env(); });
    if (!env_error_.empty()) fail(ErrorKind::kInvalidArgument, env_error_);
  }

  // Returns "" on success, else the error message.
  std::string apply_env() {
    const char* env = std::getenv("IRNET_KERNELS");
    if (env == nullptr) return "";
    const std::string spec(env);
    std::size_t pos = 0;
    while (pos <= spec.size()) {
      std::size_t end = spec.find(',', pos);
      if (end == std::string::npos) end = spec.size();
      const std::string item = spec.substr(pos, end - pos);
      pos = end + 1;
      if (item.empty()) continue;
      const std::size_t eq = item.find('=');
      if (eq == std::string::npos)
        return str_cat("environment variable IRNET_KERNELS: '", item, "' is not of the form family=kernel");
      try {
        family(item.substr(0, eq)).force(item.substr(eq + 1));
      } catch (const Error& e) {
        return str_cat("environment variable IRNET_KERNELS: ", e.what());
      }
    }
    return "";
  }

  std::vector<FamilyBase*> all_;
  std::once_flag env_once_;
  std::string env_error_;
};

#undef IRNET_ARCH_TABLE
#undef IRNET_DECLARE_ARCH_TABLES

}  // namespace

KernelConfig selected_kernels() {
  const Registry& r = Registry::instance();
  KernelConfig c;
  c.bitpack = r.bitpack.selected_kernel();
  c.bgemm = r.bgemm.selected_kernel();
  c.sgemm = r.sgemm.selected_kernel();
  c.bconv_epilogue = r.bconv_epilogue.selected_kernel();
  c.phase_conv = r.phase_conv.selected_kernel();
  c.pool = r.pool.selected_kernel();
  c.crc32 = r.crc32.selected_kernel();
  return c;
}

std::vector<std::pair<std::string, std::string>> KernelConfig::names() const {
  return {{"bitpack", bitpack->name},       {"bgemm", bgemm->name},           {"sgemm", sgemm->name},
          {"bconv_epilogue", bconv_epilogue->name}, {"phase_conv", phase_conv->name}, {"pool", pool->name},
          {"crc32", crc32->name}};
}

template <typename Kernel>
std::vector<const Kernel*> supported_kernels() {
  return Registry::instance().of<Kernel>().supported_kernels();
}

namespace {
template <typename... Kernel>
constexpr auto supported_kernels_functions(std::tuple<Family<Kernel>&...>*) {
  return std::make_tuple(&supported_kernels<Kernel>...);
}
using EveryFamily = decltype(std::declval<Registry&>().members());
}  // namespace
// supported_kernels<Kernel> (declared in kernel_config.h) instantiated for the
// descriptor type of every family in Registry::members(): the addresses in a
// variable with external linkage are kept by the compiler.
extern const auto kSupportedKernelsOfEveryFamily = supported_kernels_functions(static_cast<EveryFamily*>(nullptr));

std::vector<std::string> kernel_families() {
  std::vector<std::string> out;
  for (const FamilyBase* f : Registry::instance().families()) out.push_back(f->name());
  return out;
}

std::vector<KernelVariantInfo> kernel_variants(const std::string& family) {
  const FamilyBase& f = Registry::instance().family(family);
  std::vector<KernelVariantInfo> out;
  for (std::size_t i = 0; i < f.size(); ++i) out.push_back({f.variant_name(i), f.supported(i), i == f.selected()});
  return out;
}

std::string selected_kernel(const std::string& family) {
  const FamilyBase& f = Registry::instance().family(family);
  return f.variant_name(f.selected());
}

void force_kernel(const std::string& family, const std::string& name) { Registry::instance().family(family).force(name); }

}  // namespace irnet
