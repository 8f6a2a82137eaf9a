#include "cpu/kernel_registry.h"

#include <atomic>
#include <cstdlib>
#include <deque>
#include <mutex>

#include "core/check.h"
#include "irnet/kernels.h"

namespace irnet {

bool always_supported() { return true; }

namespace {

struct FamilyTables {
  const char* name;
  std::vector<const KernelTable*> tables;  // best first
};

// One row per family; see the contract in kernel_registry.h.
const std::vector<FamilyTables>& family_tables() {
  static const std::vector<FamilyTables> families = {
      {"bitpack",
       {
#if defined(IRNET_ARCH_x86)
           &kBitpackKernelsX86,
#endif
#if defined(IRNET_ARCH_arm64)
           &kBitpackKernelsArm64,
#endif
#if defined(IRNET_ARCH_arm32)
           &kBitpackKernelsArm32,
#endif
           &kBitpackKernelsPortable}},
      {"bgemm",
       {
#if defined(IRNET_ARCH_x86)
           &kBgemmKernelsX86,
#endif
#if defined(IRNET_ARCH_arm64)
           &kBgemmKernelsArm64,
#endif
#if defined(IRNET_ARCH_arm32)
           &kBgemmKernelsArm32,
#endif
           &kBgemmKernelsPortable}},
      {"sgemm",
       {
#if defined(IRNET_ARCH_x86)
           &kSgemmKernelsX86,
#endif
#if defined(IRNET_ARCH_arm64)
           &kSgemmKernelsArm64,
#endif
#if defined(IRNET_ARCH_arm32)
           &kSgemmKernelsArm32,
#endif
           &kSgemmKernelsPortable}},
  };
  return families;
}

struct Family {
  std::string name;
  std::vector<const KernelVariant*> variants;  // best first
  std::vector<bool> supported;                 // parallel to variants
  std::atomic<const KernelVariant*> selected{nullptr};
};

class Registry {
 public:
  static Registry& instance() {
    static Registry registry;  // thread-safe initialization
    return registry;
  }

  Family& family(const std::string& name) {
    for (Family& f : families_)
      if (f.name == name) return f;
    std::string known;
    for (const Family& f : families_) known += (known.empty() ? "" : ", ") + f.name;
    fail(ErrorKind::kInvalidArgument, "unknown kernel family '", name, "' (known: ", known, ")");
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Family& f : families_) out.push_back(f.name);
    return out;
  }

  void force(const std::string& family_name, const std::string& variant) {
    Family& f = family(family_name);
    if (variant == "auto") {
      f.selected.store(best_supported(f));
      return;
    }
    std::string valid;
    for (std::size_t i = 0; i < f.variants.size(); ++i) {
      if (variant == f.variants[i]->name) {
        if (!f.supported[i])
          fail(ErrorKind::kInvalidArgument, "kernel '", variant, "' of family '", f.name,
               "' is not supported by this CPU (", cpu_description(), "); supported: ",
               supported_names(f));
        f.selected.store(f.variants[i]);
        return;
      }
    }
    fail(ErrorKind::kInvalidArgument, "unknown kernel '", variant, "' for family '", f.name,
         "'; supported: ", supported_names(f));
  }

  // Applies IRNET_KERNELS once. Kept out of the constructor so that a bad
  // value is reported (thrown) at every lookup instead of poisoning the static.
  void apply_env_once() {
    std::call_once(env_once_, [this] { env_error_ = apply_env(); });
    if (!env_error_.empty()) fail(ErrorKind::kInvalidArgument, env_error_);
  }

 private:
  Registry() {
    for (const FamilyTables& ft : family_tables()) {
      families_.emplace_back();
      Family& f = families_.back();
      f.name = ft.name;
      for (const KernelTable* table : ft.tables)
        for (std::size_t i = 0; i < table->count; ++i) {
          f.variants.push_back(&table->variants[i]);
          f.supported.push_back(table->variants[i].supported());
        }
      f.selected.store(best_supported(f));
    }
  }

  static const KernelVariant* best_supported(const Family& f) {
    for (std::size_t i = 0; i < f.variants.size(); ++i)
      if (f.supported[i]) return f.variants[i];
    fail(ErrorKind::kInternal, "no supported kernel in family '", f.name, "'");
  }

  static std::string supported_names(const Family& f) {
    std::string s;
    for (std::size_t i = 0; i < f.variants.size(); ++i)
      if (f.supported[i]) s += (s.empty() ? "" : ", ") + std::string(f.variants[i]->name);
    return s;
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
        return str_cat("IRNET_KERNELS: '", item, "' is not of the form family=kernel");
      try {
        force(item.substr(0, eq), item.substr(eq + 1));
      } catch (const Error& e) {
        return str_cat("IRNET_KERNELS: ", e.what());
      }
    }
    return "";
  }

  std::deque<Family> families_;  // Family holds an atomic: not movable
  std::once_flag env_once_;
  std::string env_error_;
};

Registry& registry() {
  Registry& r = Registry::instance();
  r.apply_env_once();
  return r;
}

}  // namespace

const KernelVariant& selected_variant(const std::string& family) {
  return *registry().family(family).selected.load();
}

std::vector<const KernelVariant*> family_variants(const std::string& family) {
  return registry().family(family).variants;
}

std::vector<std::string> kernel_families() { return registry().names(); }

std::vector<KernelVariantInfo> kernel_variants(const std::string& family) {
  Family& f = registry().family(family);
  const KernelVariant* selected = f.selected.load();
  std::vector<KernelVariantInfo> out;
  for (std::size_t i = 0; i < f.variants.size(); ++i)
    out.push_back({f.variants[i]->name, static_cast<bool>(f.supported[i]), f.variants[i] == selected});
  return out;
}

std::string selected_kernel(const std::string& family) {
  return registry().family(family).selected.load()->name;
}

void force_kernel(const std::string& family, const std::string& name) {
  registry().force(family, name);
}

}  // namespace irnet
