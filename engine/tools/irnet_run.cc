// irnet-run: load an .irb model, run it, print the load time and the first
// run's time, outputs, latency and (with --profile) per-layer times.
//
//   irnet-run model.irb [--input x.npy]... [--threads N] [--runs R] [--warmup W] [--profile]
//
// Without --input, every input is filled with a fixed pseudo-random pattern in
// [-1, 1) (the same on every machine), so checksums are comparable across
// builds. Exit status: 0 on success, 1 on any error, 2 on bad usage.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iomanip>
#include <string>
#include <vector>

#include "irnet/irnet.h"

namespace {

struct Options {
  std::string model;
  std::vector<std::string> inputs;
  int threads = 1;
  int runs = 10;
  int warmup = 2;
  bool profile = false;
};

const char kUsage[] =
    "usage: irnet-run model.irb [--input x.npy]... [--threads N] [--runs R] [--warmup W] [--profile]\n"
    "  --input x.npy  float32/float64 C-order array shaped like the model input (NCHW);\n"
    "                 once per model input, in order. Default: a fixed pseudo-random input.\n"
    "  --threads N    intra-op threads (default 1)\n"
    "  --runs R       timed runs (default 10)      --warmup W  untimed runs first (default 2)\n"
    "  --profile      print per-layer times (median over the timed runs)\n";

struct UsageError {
  std::string message;
};

int parse_int(const std::string& flag, const char* text, int lo, int hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
    throw UsageError{flag + " needs an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                     "], got '" + text + "'"};
  return static_cast<int>(v);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) throw UsageError{a + " needs a value"};
      return argv[++i];
    };
    if (a == "--input") o.inputs.push_back(value());
    else if (a == "--threads") o.threads = parse_int(a, value(), 1, irnet::kMaxThreads);
    else if (a == "--runs") o.runs = parse_int(a, value(), 1, 1000000);
    else if (a == "--warmup") o.warmup = parse_int(a, value(), 0, 1000000);
    else if (a == "--profile") o.profile = true;
    else if (a == "-h" || a == "--help") { std::fputs(kUsage, stdout); std::exit(0); }
    else if (!a.empty() && a[0] == '-') throw UsageError{"unknown option '" + a + "'"};
    else if (o.model.empty()) o.model = a;
    else throw UsageError{"more than one model given ('" + o.model + "', '" + a + "')"};
  }
  if (o.model.empty()) throw UsageError{"no model given"};
  return o;
}

[[noreturn]] void npy_error(const std::string& path, const std::string& message) {
  throw irnet::Error(irnet::ErrorKind::kInvalidArgument, path + ": " + message);
}

// A minimal .npy reader: format versions 1-3, dtype <f4 or <f8, C order.
struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw irnet::Error(irnet::ErrorKind::kIo, "cannot open '" + path + "'");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    npy_error(path, "not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) npy_error(path, "truncated header");
    for (int i = 0; i < 4; ++i) header_len |= std::size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    header_start = 12;
  } else {
    npy_error(path, "unsupported .npy version " + std::to_string(major));
  }
  if (header_len > bytes.size() - header_start) npy_error(path, "truncated header");
  const std::string header(bytes.data() + header_start, header_len);
  auto field = [&](const std::string& key) {
    const std::size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) npy_error(path, "header lacks '" + key + "'");
    const std::size_t colon = header.find(':', k);
    if (colon == std::string::npos) npy_error(path, "malformed header");
    return header.substr(colon + 1);
  };
  const std::string descr = field("descr");
  std::size_t item = 0;
  if (descr.find("'<f4'") == 1 || descr.find("'<f4'") == 0) item = 4;
  else if (descr.find("'<f8'") == 1 || descr.find("'<f8'") == 0) item = 8;
  else npy_error(path, "dtype must be float32 or float64 (little-endian), header has" + descr.substr(0, descr.find(',')));
  const std::string fortran = field("fortran_order");
  if (fortran.find("False") > 1) npy_error(path, "fortran_order arrays are not supported; save a C-order array");
  const std::string shape_text = field("shape");
  const std::size_t open = shape_text.find('('), close = shape_text.find(')');
  if (open == std::string::npos || close == std::string::npos || close < open) npy_error(path, "malformed shape");
  NpyArray arr;
  std::size_t count = 1;
  const std::string dims = shape_text.substr(open + 1, close - open - 1);
  for (std::size_t pos = 0; pos < dims.size();) {
    while (pos < dims.size() && (dims[pos] == ' ' || dims[pos] == ',')) ++pos;
    if (pos >= dims.size()) break;
    char* end = nullptr;
    const long long d = std::strtoll(dims.c_str() + pos, &end, 10);
    if (end == dims.c_str() + pos || d < 0) npy_error(path, "malformed shape (" + dims + ")");
    arr.shape.push_back(d);
    // The data must be in the file, so the element count is bounded by its size:
    // checking against it keeps every product below, and fits size_t on 32-bit.
    if (static_cast<unsigned long long>(d) > bytes.size() ||
        (d != 0 && count > bytes.size() / static_cast<std::size_t>(d)))
      npy_error(path, "shape (" + dims + ") needs more data than the file holds");
    count *= static_cast<std::size_t>(d);
    pos = static_cast<std::size_t>(end - dims.c_str());
  }
  const std::size_t data_start = header_start + header_len;
  const std::size_t data_bytes = bytes.size() - data_start;
  if (data_bytes % item != 0 || data_bytes / item != count)
    npy_error(path, "data has " + std::to_string(data_bytes) + " bytes, shape (" + dims + ") needs " +
                        std::to_string(count) + " values of " + std::to_string(item) + " bytes");
  arr.values.resize(count);
  const char* p = bytes.data() + data_start;
  for (std::size_t i = 0; i < count; ++i) {
    if (item == 4) {
      std::memcpy(&arr.values[i], p + 4 * i, 4);
    } else {
      double d;
      std::memcpy(&d, p + 8 * i, 8);
      arr.values[i] = static_cast<float>(d);
    }
  }
  return arr;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Fixed pseudo-random input: a 32-bit LCG mapped to [-1, 1).
std::vector<float> default_input(std::size_t n, std::uint32_t seed) {
  std::vector<float> v(n);
  std::uint32_t s = seed;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<float>(s >> 8) / 8388608.0f - 1.0f;
  }
  return v;
}

void print_output(const irnet::TensorInfo& info, const std::vector<float>& y) {
  double sum = 0, abs_sum = 0;
  for (float v : y) {
    sum += v;
    abs_sum += std::fabs(v);
  }
  std::printf("output '%s' %s: checksum sum=%.6f abs_sum=%.6f\n", info.name.c_str(),
              shape_text(info.shape).c_str(), sum, abs_sum);
  const std::size_t batch = info.shape.empty() ? 1 : static_cast<std::size_t>(info.shape[0]);
  const std::size_t per = y.size() / batch;
  for (std::size_t b = 0; b < std::min<std::size_t>(batch, 4); ++b) {
    std::vector<std::size_t> idx(per);
    for (std::size_t i = 0; i < per; ++i) idx[i] = i;
    const std::size_t k = std::min<std::size_t>(5, per);
    const float* row = y.data() + b * per;
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                      [&](std::size_t a, std::size_t c) { return row[a] > row[c] || (row[a] == row[c] && a < c); });
    std::printf("  sample %zu top-%zu:", b, k);
    for (std::size_t i = 0; i < k; ++i) std::printf(" %zu:%.6g", idx[i], row[idx[i]]);
    std::printf("\n");
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int run(const Options& o) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point load_start = Clock::now();
  const irnet::Model model = irnet::Model::load(o.model, o.threads);
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();
  const auto& ins = model.inputs();
  if (!o.inputs.empty() && o.inputs.size() != ins.size())
    throw irnet::Error(irnet::ErrorKind::kInvalidArgument,
                       "the model has " + std::to_string(ins.size()) + " inputs, " +
                           std::to_string(o.inputs.size()) + " --input files given");
  std::vector<std::vector<float>> input_data;
  for (std::size_t i = 0; i < ins.size(); ++i) {
    if (o.inputs.empty()) {
      input_data.push_back(default_input(ins[i].element_count(), 12345u + static_cast<std::uint32_t>(i)));
      continue;
    }
    NpyArray a = read_npy(o.inputs[i]);
    if (a.shape != ins[i].shape)
      throw irnet::Error(irnet::ErrorKind::kInvalidArgument,
                         o.inputs[i] + ": shape " + shape_text(a.shape) + " but model input '" + ins[i].name +
                             "' needs " + shape_text(ins[i].shape) + " (NCHW)");
    input_data.push_back(std::move(a.values));
  }
  std::vector<irnet::InputTensor> in_views;
  for (std::size_t i = 0; i < ins.size(); ++i) in_views.push_back({input_data[i].data(), ins[i].shape});
  std::vector<std::vector<float>> outputs;
  std::vector<float*> out_ptrs;
  for (const auto& info : model.outputs()) outputs.emplace_back(info.element_count());
  for (auto& v : outputs) out_ptrs.push_back(v.data());

  std::printf("model %s: %zu layers, %d thread(s), input%s", o.model.c_str(), model.summary().layers.size(),
              model.threads(), o.inputs.empty() ? " pseudo-random" : "");
  for (const auto& info : ins) std::printf(" '%s' %s", info.name.c_str(), shape_text(info.shape).c_str());
  std::printf("\n");

  // The process's first run (a warm-up one, or else the first timed one) is
  // reported on its own: after load it should cost what later runs cost.
  double first_ms = 0;
  for (int i = 0; i < o.warmup; ++i) {
    const Clock::time_point start = Clock::now();
    model.run(in_views, out_ptrs);
    if (i == 0) first_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }
  std::vector<double> total_ms;
  std::vector<std::vector<double>> layer_ms;  // [layer][run]
  std::vector<double> layer_seconds;
  for (int r = 0; r < o.runs; ++r) {
    const Clock::time_point start = Clock::now();
    model.run(in_views, out_ptrs, o.profile ? &layer_seconds : nullptr);
    total_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (o.profile) {
      layer_ms.resize(layer_seconds.size());
      for (std::size_t l = 0; l < layer_seconds.size(); ++l) layer_ms[l].push_back(layer_seconds[l] * 1e3);
    }
  }
  if (o.warmup == 0) first_ms = total_ms[0];
  std::printf("load %.3f ms, first run %.3f ms\n", load_ms, first_ms);
  for (std::size_t i = 0; i < outputs.size(); ++i) print_output(model.outputs()[i], outputs[i]);
  std::printf("latency over %d runs (after %d warmup): median %.3f ms, min %.3f ms, max %.3f ms\n", o.runs,
              o.warmup, median(total_ms), *std::min_element(total_ms.begin(), total_ms.end()),
              *std::max_element(total_ms.begin(), total_ms.end()));
  if (o.profile) {
    const irnet::ModelSummary s = model.summary();
    double sum = 0;
    std::vector<double> med;
    for (const auto& l : layer_ms) sum += med.emplace_back(median(l));
    std::printf("kernels:");
    for (const auto& [family, variant] : s.kernels) std::printf(" %s=%s", family.c_str(), variant.c_str());
    std::printf("\n%-4s %-28s %-14s %-36s %10s %6s\n", "#", "layer", "op", "kernel", "median ms", "%");
    for (std::size_t l = 0; l < med.size(); ++l)
      std::printf("%-4zu %-28.28s %-14s %-36s %10.4f %5.1f%%\n", l, s.layers[l].name.c_str(),
                  s.layers[l].op.c_str(), s.layers[l].kernel.c_str(), med[l], sum > 0 ? 100.0 * med[l] / sum : 0.0);
    std::printf("sum of layer medians: %.3f ms; peak activation memory %zu bytes\n", sum, s.peak_activation_bytes);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "irnet-run: %s\n%s", e.message.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "irnet-run: error: %s\n", e.what());
    return 1;
  }
}
