// Binary convolution throughput on the ResNet-18 binary 3x3 layers, per bgemm
// kernel variant, against the machine's practical xor-popcount peak.
//
//   bench_bconv                      all layers x all supported bgemm variants
//   bench_bconv --layer 0 --kernel bgemm_4x8_avx2 --runs 31
//   bench_bconv --layer 0 --exact 10 run layer 0 exactly 10 times, no warm-up
//                                    and no peak loop (for instruction counting)
//
// A layer pass is one BConv2d::run_rows over all output rows, single thread,
// by default in the Bi-Real configuration (zero padding, per-channel
// shift/scale/bias, residual, clamp, float+bits output; --mode changes it). binary GMAC/s = out_h*out_w*
// out_c*9*in_c / time, median of the runs. The peak is a plain loop of
// popcount(a[i] ^ b[i]) with 4 accumulators over two 2 KiB arrays (L1
// resident), 64 binary MACs per word, timed in chunks interleaved with the
// layer runs. The "bgemm" column is the micro-kernel alone on the same shape,
// so layer vs bgemm shows the im2col + epilogue cost.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bconv/bconv2d.h"
#include "cpu/kernel_config.h"
#include "irnet/kernels.h"

namespace {

struct Layer {
  const char* name;
  int hw, channels;
};
const Layer kLayers[] = {{"56x56x64", 56, 64}, {"28x28x128", 28, 128}, {"14x14x256", 14, 256}, {"7x7x512", 7, 512}};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

#if defined(__x86_64__)
__attribute__((target("popcnt")))
#endif
std::uint64_t xor_popcount_loop(const std::uint64_t* a, const std::uint64_t* b, std::size_t n,
                                std::size_t repeats) {
  std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (std::size_t r = 0; r < repeats; ++r) {
    for (std::size_t i = 0; i < n; i += 4) {
      s0 += __builtin_popcountll(a[i] ^ b[i]);
      s1 += __builtin_popcountll(a[i + 1] ^ b[i + 1]);
      s2 += __builtin_popcountll(a[i + 2] ^ b[i + 2]);
      s3 += __builtin_popcountll(a[i + 3] ^ b[i + 3]);
    }
    __asm__ volatile("" : "+r"(s0), "+r"(s1), "+r"(s2), "+r"(s3));  // keep every repeat
  }
  return s0 + s1 + s2 + s3;
}

// The peak loop's data: two 2 KiB arrays, L1 resident.
struct PeakData {
  std::vector<std::uint64_t> a, b;
  PeakData() : a(256), b(256) {
    std::mt19937_64 rng(7);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = rng(), b[i] = rng();
  }
};

// Seconds and binary MACs of one timed chunk of the xor-popcount loop.
double time_peak_chunk(const PeakData& d, std::size_t repeats, double* macs) {
  static volatile std::uint64_t sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
  sink = sink + xor_popcount_loop(d.a.data(), d.b.data(), d.a.size(), repeats);
  *macs = double(d.a.size()) * repeats * 64;
  return seconds_since(t0);
}

struct LayerSetup {
  irnet::Conv2dGeometry g;
  std::vector<irnet::BitWord> input, weights, bits;
  std::vector<float> residual, out;
  std::vector<std::int32_t> out_i32;
  irnet::BConv2dOutput params;
};

LayerSetup make_layer(const Layer& layer, irnet::BConv2dOutput::Mode mode) {
  LayerSetup s;
  irnet::Conv2dGeometry& g = s.g;
  g.in_h = g.in_w = layer.hw;
  g.in_c = g.out_c = layer.channels;
  g.kernel_h = g.kernel_w = 3;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
  std::mt19937_64 rng(11);
  const std::size_t words = irnet::packed_words(g.in_c);
  s.input.resize(std::size_t(g.in_h) * g.in_w * words);
  s.weights.resize(std::size_t(g.out_c) * 9 * words);
  for (auto& w : s.input) w = rng();
  for (auto& w : s.weights) w = rng();
  const std::size_t outputs = std::size_t(g.out_h()) * g.out_w() * g.out_c;
  s.residual.assign(outputs, 0.25f);
  s.out.resize(outputs);
  s.out_i32.resize(outputs);
  s.bits.resize(std::size_t(g.out_h()) * g.out_w() * irnet::packed_words(g.out_c));
  s.params.mode = mode;
  // Bi-Real blocks add the shortcut; a bits-only layer uses the integer thresholds.
  s.params.has_residual = mode == irnet::BConv2dOutput::kFloat || mode == irnet::BConv2dOutput::kFloatAndBits;
  s.params.shift.assign(g.out_c, 1);
  s.params.scale.assign(g.out_c, 0.02f);
  s.params.bias.assign(g.out_c, -0.1f);

  s.params.has_clamp = true;
  s.params.clamp_lo = -1.f;
  s.params.clamp_hi = 1.f;
  return s;
}

struct Timing {
  double layer_s = 0, bgemm_s = 0, peak_gmacs = 0;
};

// Medians over `runs` of: one layer pass, the same bgemm alone (M = output
// pixels, N = out_c, K = 9*in_c/64 words, in the layer's row blocks, random
// data: a bgemm's time does not depend on the bits), and a chunk of the peak
// loop. The three are interleaved run by run, so a busy machine slows them alike.
// With `exact`, only the layer runs, exactly `runs` times, without warm-up.
Timing time_layer(LayerSetup& s, int runs, bool exact) {
  const irnet::KernelConfig kernels = irnet::selected_kernels();
  const irnet::BConv2d conv(s.g, irnet::PadValue::kZero, s.params, s.weights.data(), kernels);
  const std::size_t rows = conv.output_rows();
  std::vector<std::uint64_t> scratch(conv.scratch_bytes(rows) / 8 + 1);
  auto pass = [&] {
    conv.run_rows(0, rows, s.input.data(), s.residual.data(), s.out_i32.data(), s.out.data(), s.bits.data(),
                  scratch.data());
  };
  Timing timing;
  if (exact) {
    for (int r = 0; r < runs; ++r) pass();
    return timing;
  }
  const std::size_t k_words = 9 * irnet::packed_words(s.g.in_c), block = 224;
  std::vector<std::uint64_t> cols(rows * k_words);
  std::mt19937_64 rng(3);
  for (auto& w : cols) w = rng();
  std::vector<std::int32_t> counts(rows * s.g.out_c);
  const irnet::BgemmKernel& bgemm = *kernels.bgemm;
  const irnet::BgemmWeights packed(bgemm, 1, s.g.out_c, k_words, s.weights.data(), k_words, 0);
  auto bgemm_only = [&] {
    for (std::size_t r0 = 0; r0 < rows; r0 += block)
      bgemm.run(std::min(block, rows - r0), s.g.out_c, k_words, cols.data() + r0 * k_words, k_words,
                packed.group(0), packed.ld(), counts.data() + r0 * s.g.out_c, s.g.out_c);
  };
  const PeakData peak;
  pass();  // warm-up
  bgemm_only();
  std::vector<double> layer_t, bgemm_t, peak_rate;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    pass();
    layer_t.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    bgemm_only();
    bgemm_t.push_back(seconds_since(t0));
    double macs = 0;
    const double sec = time_peak_chunk(peak, 1000, &macs);
    peak_rate.push_back(macs / sec * 1e-9);
  }
  timing.layer_s = median(layer_t);
  timing.bgemm_s = median(bgemm_t);
  timing.peak_gmacs = median(peak_rate);
  return timing;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_bconv [--layer 0..3] [--kernel NAME] [--runs N] [--exact N]\n"
               "                   [--mode float+bits|bits|float|int32]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int only_layer = -1, runs = 21, exact = 0;
  std::string only_kernel;
  irnet::BConv2dOutput::Mode mode = irnet::BConv2dOutput::kFloatAndBits;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage();
    if (arg == "--layer") only_layer = std::atoi(argv[++i]);
    else if (arg == "--kernel") only_kernel = argv[++i];
    else if (arg == "--runs") runs = std::atoi(argv[++i]);
    else if (arg == "--exact") exact = std::atoi(argv[++i]);
    else if (arg == "--mode") {
      const std::string m = argv[++i];
      if (m == "float+bits") mode = irnet::BConv2dOutput::kFloatAndBits;
      else if (m == "bits") mode = irnet::BConv2dOutput::kBits;
      else if (m == "float") mode = irnet::BConv2dOutput::kFloat;
      else if (m == "int32") mode = irnet::BConv2dOutput::kInt32;
      else usage();
    }
    else usage();
  }
  if (only_layer > 3 || runs < 1 || exact < 0) usage();
  std::vector<std::string> kernels;
  for (const irnet::KernelVariantInfo& v : irnet::kernel_variants("bgemm"))
    if (v.supported && v.name != "bgemm_ref" && (only_kernel.empty() || v.name == only_kernel))
      kernels.push_back(v.name);
  if (kernels.empty()) {
    std::fprintf(stderr, "no supported bgemm kernel named '%s'\n", only_kernel.c_str());
    return 2;
  }
  try {
    if (exact > 0) {
      irnet::force_kernel("bgemm", kernels.front());
      LayerSetup s = make_layer(kLayers[only_layer < 0 ? 0 : only_layer], mode);
      time_layer(s, exact, true);
      return 0;
    }
    std::printf("cpu: %s\n", irnet::cpu_description().c_str());
    std::printf("binary GMAC/s, medians of %d interleaved runs; peak = xor-popcount loop on L1 data\n", runs);
    std::printf("%-10s %-18s %9s %9s %9s %9s %8s\n", "layer", "kernel", "layer ms", "layer", "bgemm",
                "peak", "layer/peak");
    for (int l = 0; l < 4; ++l) {
      if (only_layer >= 0 && l != only_layer) continue;
      for (const std::string& k : kernels) {
        irnet::force_kernel("bgemm", k);
        LayerSetup s = make_layer(kLayers[l], mode);
        const Timing t = time_layer(s, runs, false);
        const double macs = double(s.g.out_h()) * s.g.out_w() * s.g.out_c * 9 * s.g.in_c;
        const double layer = macs / t.layer_s * 1e-9, bgemm = macs / t.bgemm_s * 1e-9;
        std::printf("%-10s %-18s %9.3f %9.1f %9.1f %9.1f %7.0f%%\n", kLayers[l].name, k.c_str(),
                    t.layer_s * 1e3, layer, bgemm, t.peak_gmacs, 100 * layer / t.peak_gmacs);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
