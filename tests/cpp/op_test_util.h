// Test support for the ops: a NodeView over in-memory tensors and attributes
// (the same interface the .irb loader implements), and a runner that executes
// an Op through RunContext with a chunking parallel_for.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "core/check.h"
#include "graph/op.h"

namespace irnet_test {

using irnet::DType;
using irnet::Shape;
using irnet::TensorDesc;

class FakeNode final : public irnet::NodeView {
 public:
  explicit FakeNode(std::string op) : op_(std::move(op)) {}

  // Builders. A constant input keeps a pointer to `data` (which must outlive the op).
  FakeNode& input(DType dtype, Shape shape, const void* constant_data = nullptr) {
    inputs_.push_back(TensorDesc{dtype, std::move(shape), constant_data});
    present_.push_back(true);
    return *this;
  }
  FakeNode& absent_input() {
    inputs_.emplace_back();
    present_.push_back(false);
    return *this;
  }
  FakeNode& attr(const std::string& key, std::vector<std::int64_t> v) { ints_[key] = std::move(v); return *this; }
  FakeNode& attr(const std::string& key, std::vector<float> v) { floats_[key] = std::move(v); return *this; }
  FakeNode& attr(const std::string& key, std::string v) { strs_[key] = std::move(v); return *this; }
  FakeNode& outputs(std::size_t n) { num_outputs_ = n; return *this; }

  // NodeView
  const std::string& name() const override { return name_; }
  const std::string& op() const override { return op_; }
  std::size_t num_inputs() const override { return inputs_.size(); }
  const TensorDesc* input(std::size_t i) const override {
    return i < inputs_.size() && present_[i] ? &inputs_[i] : nullptr;
  }
  std::size_t num_outputs() const override { return num_outputs_; }
  bool has_attr(const std::string& key) const override {
    return ints_.count(key) || floats_.count(key) || strs_.count(key);
  }
  std::vector<std::int64_t> ints(const std::string& key, std::vector<std::int64_t> dflt) const override {
    return lookup(ints_, key, std::move(dflt), "integers");
  }
  std::vector<float> floats(const std::string& key, std::vector<float> dflt) const override {
    return lookup(floats_, key, std::move(dflt), "floats");
  }
  std::string str(const std::string& key, std::string dflt) const override {
    return lookup(strs_, key, std::move(dflt), "a string");
  }

 private:
  template <typename T>
  T lookup(const std::map<std::string, T>& table, const std::string& key, T dflt, const char* kind) const {
    const auto it = table.find(key);
    if (it != table.end()) return it->second;
    if (has_attr(key)) fail(irnet::str_cat("attribute '", key, "' must hold ", kind));
    return dflt;
  }

  std::string name_ = "test_node", op_;
  std::vector<TensorDesc> inputs_;
  std::vector<bool> present_;
  std::size_t num_outputs_ = 1;
  std::map<std::string, std::vector<std::int64_t>> ints_;
  std::map<std::string, std::vector<float>> floats_;
  std::map<std::string, std::string> strs_;
};

// Builds the op through the op table, as the loader does.
inline std::unique_ptr<irnet::Op> make_op(const FakeNode& node) {
  const irnet::OpFactory factory = irnet::find_op_factory(node.op());
  if (factory == nullptr) throw irnet::Error(irnet::ErrorKind::kInternal, "no factory for " + node.op());
  return factory(node);
}

// Runs `op` on the given input buffers (one per declared input, nullptr if
// absent) and returns output 0 as floats. parallel_for splits into `chunks`
// pieces run in reverse order, so tests see any chunking dependence.
inline std::vector<float> run_op(const irnet::Op& op, const std::vector<const void*>& inputs, std::size_t chunks = 3) {
  const std::vector<TensorDesc> outs = op.outputs();
  std::vector<float> y(irnet::tensor_bytes(outs.at(0).dtype, outs.at(0).shape) / sizeof(float) + 1, -12345.f);
  std::vector<std::uint8_t> scratch(op.scratch_bytes() + 64);
  void* aligned = scratch.data() + (64 - reinterpret_cast<std::uintptr_t>(scratch.data()) % 64) % 64;
  const irnet::ParallelFor pf = [chunks](std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn) {
    for (std::size_t c = chunks; c-- > 0;) {
      const std::size_t b = c * n / chunks, e = (c + 1) * n / chunks;
      if (b < e) fn(b, e);
    }
  };
  void* out_ptr = y.data();
  irnet::RunContext ctx{inputs.data(), &out_ptr, aligned, &pf};
  op.run(ctx);
  CHECK_EQ(y.back(), -12345.f);  // nothing written past the output
  y.pop_back();
  return y;
}

inline std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float lo = -2.f, float hi = 2.f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::size_t count_of(const Shape& s) {
  std::size_t n = 1;
  for (auto d : s) n *= static_cast<std::size_t>(d);
  return n;
}

// Reports each mismatch beyond tolerance (rel * max(1, |ref|)); tol 0 = exact.
inline void check_close(const std::vector<float>& got, const std::vector<float>& ref, float rel,
                        const std::string& what, const char* file, int line) {
  if (got.size() != ref.size()) {
    report(file, line, irnet::str_cat(what, ": size ", got.size(), " vs ", ref.size()));
    return;
  }
  int shown = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const float scale = std::max(1.f, std::fabs(ref[i]));
    const bool ok = rel == 0.f ? (got[i] == ref[i] || (got[i] != got[i] && ref[i] != ref[i]))
                               : std::fabs(got[i] - ref[i]) <= rel * scale;
    if (!ok && shown++ < 3) report(file, line, irnet::str_cat(what, " at ", i, ": ", got[i], " vs ref ", ref[i]));
  }
}
#define CHECK_CLOSE(got, ref, rel, what) ::irnet_test::check_close(got, ref, rel, what, __FILE__, __LINE__)

}  // namespace irnet_test
