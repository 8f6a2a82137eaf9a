// Float convolution throughput on the ResNet-18 float layers (the 7x7/2 stem
// and the three 1x1/2 downsample convs), the fc and ReActNet-A's 3x3/2 stem,
// per sgemm kernel variant (im2col path) and every direct column-phase kernel
// the build has and the CPU runs.
//
//   bench_fconv                        all layers x all supported sgemm variants
//   bench_fconv --layer 0 --kernel sgemm_6x16_avx2 --runs 21
//   bench_fconv --layer 0 --exact 1    run layer 0 exactly once, no warm-up
//                                      (for instruction counting under qemu)
//
// A pass is FloatConv2d::run_slots over all slots on one thread (im2col +
// sgemm + bias/clamp epilogue, or phase planes + direct kernel); the kernels
// of a layer run interleaved, one pass each per round.
// GFLOP/s = 2 * MACs / time, median of the runs;
// "min ms" is the fastest run (on a shared machine the least disturbed one).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cpu/kernel_config.h"
#include "fconv/conv2d_f32.h"
#include "fconv/phase_conv.h"
#include "fconv/sgemm.h"

namespace {

struct Layer {
  const char* name;
  int hw, in_c, out_c, kernel, stride, pad;
};
// ResNet-18 at 224x224: stem, the three downsample shortcuts, the fc as a 1x1
// conv; then ReActNet-A's stem.
const Layer kLayers[] = {
    {"stem 7x7/2 224x224x3->64", 224, 3, 64, 7, 2, 3},
    {"down 1x1/2 56x56x64->128", 56, 64, 128, 1, 2, 0},
    {"down 1x1/2 28x28x128->256", 28, 128, 256, 1, 2, 0},
    {"down 1x1/2 14x14x256->512", 14, 256, 512, 1, 2, 0},
    {"fc 512->1000", 1, 512, 1000, 1, 1, 0},
    {"stem 3x3/2 224x224x3->32", 224, 3, 32, 3, 2, 1},
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int only_layer = -1, runs = 15, exact = 0;
  std::string only_kernel;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--layer") only_layer = std::atoi(argv[i + 1]);
    else if (flag == "--kernel") only_kernel = argv[i + 1];
    else if (flag == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--exact") exact = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s (--layer N, --kernel NAME, --runs N, --exact N)\n", argv[i]);
      return 2;
    }
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::printf("%-28s %-22s %10s %10s %10s\n", "layer", "kernel", "ms", "GFLOP/s", "min ms");
  for (int li = 0; li < static_cast<int>(std::size(kLayers)); ++li) {
    if (only_layer >= 0 && li != only_layer) continue;
    const Layer& L = kLayers[li];
    irnet::Conv2dGeometry g;
    g.in_h = g.in_w = L.hw;
    g.in_c = L.in_c;
    g.out_c = L.out_c;
    g.kernel_h = g.kernel_w = L.kernel;
    g.stride_h = g.stride_w = L.stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = L.pad;
    std::vector<float> x(static_cast<std::size_t>(L.hw) * L.hw * L.in_c), w(static_cast<std::size_t>(L.out_c) * L.kernel * L.kernel * L.in_c), b(L.out_c);
    for (float& v : x) v = dist(rng);
    for (float& v : w) v = dist(rng);
    for (float& v : b) v = dist(rng);
    std::vector<float> y(static_cast<std::size_t>(g.out_h()) * g.out_w() * L.out_c);
    const double macs = static_cast<double>(y.size()) * L.kernel * L.kernel * L.in_c;
    // Every sgemm variant (im2col path), then every direct kernel where it applies.
    std::vector<std::unique_ptr<irnet::FloatConv2d>> convs;
    const irnet::KernelConfig kernels = irnet::selected_kernels();
    const std::vector<const irnet::PhaseConvKernel*> phase_kernels = irnet::supported_kernels<irnet::PhaseConvKernel>();
    for (const irnet::SgemmKernel* kernel : irnet::supported_kernels<irnet::SgemmKernel>())
      convs.push_back(std::make_unique<irnet::FloatConv2d>(g, w.data(), b.data(), irnet::FloatClamp{-1.f, 1.f},
                                                           *kernel, *phase_kernels.back()));
    for (const irnet::PhaseConvKernel* phase : phase_kernels) {
      auto direct = std::make_unique<irnet::FloatConv2d>(g, w.data(), b.data(), irnet::FloatClamp{-1.f, 1.f},
                                                         *kernels.sgemm, *phase);
      const irnet::PhaseConvWidthKernel* of_width = phase->of_width(L.kernel);
      if (of_width != nullptr && direct->kernel_name() == std::string(of_width->name))
        convs.push_back(std::move(direct));
    }
    if (!only_kernel.empty())
      convs.erase(std::remove_if(convs.begin(), convs.end(), [&](const auto& c) { return only_kernel != c->kernel_name(); }),
                  convs.end());
    std::vector<std::vector<std::uint8_t>> scratch;
    const auto pass = [&](std::size_t i) {
      const irnet::FloatConv2d& conv = *convs[i];
      void* aligned = scratch[i].data() + (64 - reinterpret_cast<std::uintptr_t>(scratch[i].data()) % 64) % 64;
      conv.run_slots(0, conv.num_slots(), x.data(), y.data(), aligned);
    };
    for (const auto& conv : convs) scratch.emplace_back(conv->scratch_bytes() + 64);
    if (exact > 0) {
      for (std::size_t i = 0; i < convs.size(); ++i) {
        for (int r = 0; r < exact; ++r) pass(i);
        std::printf("%-28s %-22s ran %d time(s)\n", L.name, convs[i]->kernel_name(), exact);
      }
      continue;
    }
    // Round r times every kernel once, in turn, so that a shared machine's
    // load changes reach all of them alike.
    std::vector<std::vector<double>> ms(convs.size());
    for (std::size_t i = 0; i < convs.size(); ++i) pass(i);  // warm-up
    for (int r = 0; r < runs; ++r)
      for (std::size_t i = 0; i < convs.size(); ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        pass(i);
        ms[i].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
    for (std::size_t i = 0; i < convs.size(); ++i) {
      const double t = median(ms[i]);
      std::printf("%-28s %-22s %10.3f %10.2f %10.3f\n", L.name, convs[i]->kernel_name(), t, 2.0 * macs / (t * 1e6),
                  *std::min_element(ms[i].begin(), ms[i].end()));
    }
  }
  return 0;
}
