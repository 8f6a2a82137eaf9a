// No heap allocation inside Model::run after the first call.
//
// This binary replaces the global operator new/delete with counting versions
// (the counter covers every thread, so the pool workers are included). A model
// mixing binary and float ops is loaded, then the number of allocations across
// its runs, the first one included (its arena is made at load), must be
// exactly zero, for 1 and 2 threads.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "check.h"
#include "core/types.h"
#include "irb_test_writer.h"
#include "irnet/model.h"

// The replacements below pair operator new with malloc and operator delete
// with free, which is correct; GCC cannot see that after inlining and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them): left to
// the runtime they would pair its allocator with the std::free below, which
// AddressSanitizer reports as an alloc-dealloc mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {  // AlignedBuffer
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t align = static_cast<std::size_t>(a);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept {
  return operator new(n, a, t);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using irnet_test::IrbTestWriter;
using irnet_test::floats_attr;
using irnet_test::ints_attr;
using irnet_test::str_attr;

namespace {

// x [1,3,12,12] -> Conv2d 3x3 (16, clip) -> SignPack -> BinaryConv2d (float+bits, residual)
// -> BinaryConv2d (float) -> Add -> MaxPool 2 -> GlobalAveragePool -> Reshape -> Gemm -> Softmax
std::string write_model() {
  IrbTestWriter w;
  const int F = 1, B = 3, I = 2;
  std::vector<float> conv_w(16 * 3 * 3 * 3), bias(16, 0.1f), fc_w(10 * 16), ones(16, 1.f);
  for (std::size_t i = 0; i < conv_w.size(); ++i) conv_w[i] = static_cast<float>((i * 37) % 11) / 5.f - 1.f;
  for (std::size_t i = 0; i < fc_w.size(); ++i) fc_w[i] = static_cast<float>((i * 13) % 7) / 3.f - 1.f;
  std::vector<irnet::BitWord> bw(16 * 9);
  for (std::size_t i = 0; i < bw.size(); ++i) bw[i] = (0x9E3779B97F4A7C15ull * (i + 1)) & 0xFFFF;
  const std::vector<std::int32_t> shift(16, 1);
  const auto x = w.tensor("x", F, {1, 12, 12, 3}, 1);
  const auto h0 = w.tensor("h0", F, {1, 12, 12, 16}, 1);
  w.node("Conv2d", "stem", {x, w.constant("stem.w", F, {16, 3, 3, 3}, conv_w.data(), conv_w.size() * 4),
                            w.constant("stem.b", F, {16}, bias.data(), 64)},
         {h0}, {ints_attr("pads", {1, 1, 1, 1}), str_attr("act", "clip"), floats_attr("clip", {-1, 1})});
  const auto h0b = w.tensor("h0b", B, {1, 12, 12, 16}, 1);
  w.node("SignPack", "sign", {h0}, {h0b});
  const auto k = w.constant("bw", B, {16, 3, 3, 16}, bw.data(), bw.size() * 8);
  const auto s = w.constant("shift", I, {16}, shift.data(), 64);
  const auto h1 = w.tensor("h1", F, {1, 12, 12, 16}, 1);
  const auto h1b = w.tensor("h1b", B, {1, 12, 12, 16}, 1);
  w.node("BinaryConv2d", "b1", {h0b, k, s, irnet_test::kAbsent, irnet_test::kAbsent, h0}, {h1, h1b},
         {ints_attr("pads", {1, 1, 1, 1}), str_attr("mode", "float+bits"), floats_attr("clip", {-1, 1})});
  const auto h2 = w.tensor("h2", F, {1, 12, 12, 16}, 1);
  w.node("BinaryConv2d", "b2", {h1b, k}, {h2}, {ints_attr("pads", {1, 1, 1, 1})});
  const auto h3 = w.tensor("h3", F, {1, 12, 12, 16}, 1);
  w.node("Add", "add", {h2, h1}, {h3});
  const auto h4 = w.tensor("h4", F, {1, 6, 6, 16}, 1);
  w.node("MaxPool", "pool", {h3}, {h4}, {ints_attr("kernel", {2, 2}), ints_attr("strides", {2, 2})});
  const auto g = w.tensor("g", F, {1, 1, 1, 16}, 1);
  w.node("GlobalAveragePool", "gap", {h4}, {g});
  const auto f = w.tensor("f", F, {1, 16});
  w.node("Reshape", "flat", {g}, {f}, {ints_attr("shape", {1, 16})});
  const auto l = w.tensor("l", F, {1, 10});
  w.node("Gemm", "fc", {f, w.constant("fc.w", F, {10, 16}, fc_w.data(), fc_w.size() * 4)}, {l});
  const auto y = w.tensor("y", F, {1, 10});
  w.node("Softmax", "softmax", {l}, {y});
  w.io({x}, {y});
  const std::string path = "test_graph_alloc.irb";
  IrbTestWriter::save(w.build(), path);
  return path;
}

}  // namespace

TEST(run_does_not_allocate) {
  const std::string path = write_model();
  std::vector<float> ref;
  for (int threads : {1, 2}) {
    const irnet::Model model = irnet::Model::load(path, threads);
    std::vector<float> x(model.inputs()[0].element_count());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 201) / 100.f - 1.f;
    std::vector<float> y(model.outputs()[0].element_count());
    const std::vector<irnet::InputTensor> inputs = {{x.data(), model.inputs()[0].shape}};
    const std::vector<float*> outputs = {y.data()};
    // The first run's arena is made at load: no run allocates, the first included.
    const long before = g_allocations.load();
    for (int r = 0; r < 6; ++r) model.run(inputs, outputs);
    const long during = g_allocations.load() - before;
    if (during != 0) std::fprintf(stderr, "threads %d: %ld allocations in 6 runs\n", threads, during);
    CHECK_EQ(during, 0L);
    if (ref.empty()) ref = y;
    CHECK(y == ref);  // and 2 threads compute the same as 1
  }
  // The counter does count: loading a model allocates.
  const long before = g_allocations.load();
  { const irnet::Model m = irnet::Model::load(path, 1); }
  CHECK(g_allocations.load() > before);
  std::remove(path.c_str());
}

int main() { return irnet_test::run_all(); }
