// count_bconv: runs one binary convolution layer exactly `passes` times,
// single-threaded, for instruction counting under qemu (benchmarks/arm_counts.py)
// or for a quick timing. Not a test: it prints a checksum of the outputs so the
// work cannot be optimized away and runs with different kernels can be compared.
//
//   count_bconv <size> <channels> <passes> [<out_channels> <kernel> <stride>]
//     size x size x channels input, channels -> out_channels (default channels),
//     kernel x kernel (3 or 1, default 3), stride 1 or 2 (default 1), pad kernel / 2
//     (the ResNet-18 body layers: 56 64, 28 128, 14 256, 7 512; ReActNet-A's
//     3x3 / stride 2 and 1x1 layers: e.g. 112 64 1 64 3 2, 112 32 1 64 1 1).
//
// The layer is a Bi-Real block's binary conv as the engine runs it: zero
// padding (with its correction), folded BatchNorm scale/bias, residual add,
// Hardtanh clamp, float + packed-bit outputs. Inputs and weights are
// pseudo-random bits (fixed seed): counts do not depend on the data.
// IRNET_KERNELS=bgemm=<variant> selects the bgemm kernel (see cpu/kernel_config.h).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bconv/bconv2d.h"
#include "irnet/error.h"

namespace {

std::uint64_t next_random(std::uint64_t& state) {  // splitmix64
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int parse_positive(const char* text, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > 100000) {
    std::fprintf(stderr, "count_bconv: %s must be a positive integer, got '%s'\n", what, text);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 7) {
    std::fprintf(stderr, "usage: count_bconv <size> <channels> <passes> [<out_channels> <kernel> <stride>]\n");
    return 2;
  }
  const int size = parse_positive(argv[1], "size");
  const int channels = parse_positive(argv[2], "channels");
  const int passes = parse_positive(argv[3], "passes");
  const int out_channels = argc == 7 ? parse_positive(argv[4], "out_channels") : channels;
  const int kernel = argc == 7 ? parse_positive(argv[5], "kernel") : 3;
  const int stride = argc == 7 ? parse_positive(argv[6], "stride") : 1;
  try {
    irnet::Conv2dGeometry g;
    g.in_h = g.in_w = size;
    g.in_c = channels;
    g.out_c = out_channels;
    g.kernel_h = g.kernel_w = kernel;
    g.stride_h = g.stride_w = stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = kernel / 2;

    const std::size_t words = irnet::packed_words(channels);
    const std::size_t taps = std::size_t(kernel) * kernel;
    std::uint64_t seed = 42;
    std::vector<irnet::BitWord> input(std::size_t(size) * size * words);
    std::vector<irnet::BitWord> weights(std::size_t(out_channels) * taps * words);
    for (auto& w : input) w = next_random(seed);
    for (auto& w : weights) w = next_random(seed);
    if (channels % 64 != 0) {  // tail bits past the channel count must be 0
      const irnet::BitWord mask = (irnet::BitWord{1} << (channels % 64)) - 1;
      for (std::size_t i = words - 1; i < input.size(); i += words) input[i] &= mask;
      for (std::size_t i = words - 1; i < weights.size(); i += words) weights[i] &= mask;
    }

    irnet::BConv2dOutput out;
    out.mode = irnet::BConv2dOutput::kFloatAndBits;
    out.scale.assign(out_channels, 0.125f);
    out.bias.assign(out_channels, 0.25f);
    out.has_residual = true;
    out.has_clamp = true;
    out.clamp_lo = -1.f;
    out.clamp_hi = 1.f;
    const irnet::BConv2d conv(g, irnet::PadValue::kZero, out, weights.data(), irnet::selected_kernels());

    const std::size_t rows = conv.output_rows();
    std::vector<float> residual(rows * out_channels, 0.5f), out_f32(rows * out_channels);
    std::vector<irnet::BitWord> out_bits(rows * irnet::packed_words(out_channels));
    std::vector<std::uint64_t> scratch((conv.scratch_bytes(rows) + 7) / 8);
    for (int p = 0; p < passes; ++p)
      conv.run_rows(0, rows, input.data(), residual.data(), nullptr, out_f32.data(),
                    out_bits.data(), scratch.data());

    std::uint64_t checksum = 0;
    for (irnet::BitWord w : out_bits) checksum = checksum * 31 + w;
    double sum = 0;
    for (float y : out_f32) sum += y;
    std::printf("kernel %s layer %dx%dx%d->%d k%d s%d passes %d bits_checksum %016llx float_sum %.3f\n",
                conv.kernel_name().c_str(), size, size, channels, out_channels, kernel, stride, passes,
                static_cast<unsigned long long>(checksum), sum);
  } catch (const irnet::Error& e) {
    std::fprintf(stderr, "count_bconv: %s\n", e.what());
    return 1;
  }
  return 0;
}
