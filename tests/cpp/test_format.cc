// The .irb container parser (format/irb_file.h): round trip and every kind of
// bad input. Files come from tests/cpp/irb_test_writer.h, an independent writer.
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "cpu/kernel_config.h"
#include "format/crc32.h"
#include "format/irb_file.h"
#include "irb_test_writer.h"

using irnet_test::IrbTestWriter;

namespace {

irnet::IrbFile parse(const std::vector<std::uint8_t>& bytes) {
  irnet::AlignedBuffer buf(bytes.size(), "the test file");
  if (!bytes.empty()) std::memcpy(buf.data(), bytes.data(), bytes.size());
  return irnet::parse_irb(std::move(buf), "test.irb", irnet::crc32_ref);
}

const float kBias[3] = {0.5f, -1.25f, 3.0f};
// 70 channels: the second word of each row holds channels 64-69 (bits 0-5).
const std::uint64_t kWeights[3 * 2] = {1, 2, 3, 4, 0x8000000000000001ull, 0x21};

// input f32 [1,2,2,70] nhwc -> SignPack -> bits -> BinaryConv2d(w bits [3,1,1,70], bias) -> y
IrbTestWriter sample() {
  IrbTestWriter w;
  const auto x = w.tensor("input", 1, {1, 2, 2, 70}, 1);
  const auto xb = w.tensor("x.bits", 3, {1, 2, 2, 70}, 1);
  const auto k = w.constant("conv.w", 3, {3, 1, 1, 70}, kWeights, sizeof kWeights);
  const auto b = w.constant("conv.bias", 1, {3}, kBias, sizeof kBias);
  const auto y = w.tensor("y", 1, {1, 2, 2, 3}, 1);
  w.node("SignPack", "sign", {x}, {xb});
  w.node("BinaryConv2d", "conv", {xb, k, irnet_test::kAbsent, irnet_test::kAbsent, b}, {y},
         {irnet_test::ints_attr("kernel", {1, 1}), irnet_test::floats_attr("clip", {-1.f, 1.f}),
          irnet_test::str_attr("mode", "float")});
  w.io({x}, {y});
  w.meta("producer", "test");
  return w;
}

}  // namespace

TEST(crc32_matches_zlib) {
  // zlib.crc32(b"123456789") == 0xCBF43926 (the standard check value).
  for (const irnet::Crc32Kernel* kernel : irnet::supported_kernels<irnet::Crc32Kernel>()) {
    CHECK_EQ(kernel->crc("123456789", 9), 0xCBF43926u);
    CHECK_EQ(kernel->crc("", 0), 0u);
  }
  CHECK_EQ(irnet::crc32_ref("123456789", 9), 0xCBF43926u);
  CHECK_EQ(irnet::crc32_ref("", 0), 0u);
}

TEST(crc32_fast_paths_equal_bytewise_reference) {
  // Every "crc32" variant this CPU runs (crc32_slicing, and the CPU
  // instructions where it has them: PCLMULQDQ folding on x86-64, the ARMv8
  // CRC32 instructions under qemu-aarch64), against crc32_ref:
  // every length 0..300 (all tails, the 64-byte folding blocks and their
  // combination), every start offset 0..15, then large buffers; pseudo-random
  // bytes, plus all-zero and all-0xFF runs.
  std::vector<std::uint8_t> bytes(1 << 17);
  std::uint32_t s = 7;
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  auto check_all = [](const std::uint8_t* p, std::size_t n) {
    const std::uint32_t ref = irnet::crc32_ref(p, n);
    for (const irnet::Crc32Kernel* kernel : irnet::supported_kernels<irnet::Crc32Kernel>())
      if (kernel->crc(p, n) != ref) CHECK_EQ(std::string(kernel->name), std::string("matches crc32_ref"));
  };
  for (std::size_t offset = 0; offset < 16; ++offset)
    for (std::size_t n = 0; n <= 300; ++n) check_all(bytes.data() + offset, n);
  check_all(bytes.data() + 3, bytes.size() - 3);
  check_all(bytes.data(), bytes.size());
  for (std::uint8_t fill : {0x00, 0xFF}) {
    const std::vector<std::uint8_t> run(1000, fill);
    check_all(run.data(), run.size());
  }
}

TEST(aligned_buffer_alignment_and_size) {
  // Small buffers: 64-byte aligned. From 2 MB on: whole huge pages, 2 MB aligned.
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{4097},
                           irnet::AlignedBuffer::kHugePageBytes - 1, irnet::AlignedBuffer::kHugePageBytes,
                           irnet::AlignedBuffer::kHugePageBytes * 3 + 5}) {
    irnet::AlignedBuffer buf(size, "the test buffer");
    CHECK_EQ(buf.size(), size);
    const std::size_t huge = irnet::AlignedBuffer::kHugePageBytes;
    const std::size_t expected_alignment = size >= huge ? huge : 64;
    CHECK_EQ(buf.alignment(), expected_alignment);
    CHECK_EQ(reinterpret_cast<std::uintptr_t>(buf.data()) % expected_alignment, 0u);
    if (size > 0) {
      std::memset(buf.data(), 0xA5, size);  // the whole buffer is writable
      CHECK_EQ(buf.data()[size - 1], 0xA5);
    }
  }
  const irnet::AlignedBuffer none;
  CHECK(none.data() == nullptr);
}

TEST(round_trip) {
  IrbTestWriter w = sample();
  const irnet::IrbFile f = parse(w.build());
  CHECK_EQ(f.version, 1u);
  CHECK_EQ(f.tensors.size(), 5u);
  CHECK_EQ(f.tensors[0].name, std::string("input"));
  CHECK(f.tensors[0].layout == irnet::TensorLayout::kNhwc);
  CHECK(f.tensors[0].dtype == irnet::DType::kF32);
  CHECK(f.tensors[0].shape == irnet::Shape({1, 2, 2, 70}));
  CHECK(f.tensors[0].data == nullptr);
  CHECK(f.tensors[2].dtype == irnet::DType::kBits);
  CHECK(f.tensors[2].data != nullptr);
  CHECK_EQ(reinterpret_cast<std::uintptr_t>(f.tensors[2].data) % 64, 0u);
  CHECK_EQ(reinterpret_cast<std::uintptr_t>(f.tensors[3].data) % 64, 0u);
  CHECK(std::memcmp(f.tensors[2].data, kWeights, sizeof kWeights) == 0);
  CHECK(std::memcmp(f.tensors[3].data, kBias, sizeof kBias) == 0);
  CHECK_EQ(f.nodes.size(), 2u);
  const irnet::IrbNode& conv = f.nodes[1];
  CHECK_EQ(conv.op, std::string("BinaryConv2d"));
  CHECK_EQ(conv.name, std::string("conv"));
  CHECK(conv.inputs == std::vector<std::uint32_t>({1, 2, irnet::kIrbAbsentTensor, irnet::kIrbAbsentTensor, 3}));
  CHECK(conv.outputs == std::vector<std::uint32_t>({4}));
  CHECK_EQ(conv.attrs.size(), 3u);
  CHECK(conv.attrs[0].type == irnet::AttrType::kInts && conv.attrs[0].ints == std::vector<std::int64_t>({1, 1}));
  CHECK(conv.attrs[1].type == irnet::AttrType::kFloats && conv.attrs[1].floats == std::vector<float>({-1.f, 1.f}));
  CHECK(conv.attrs[2].type == irnet::AttrType::kString && conv.attrs[2].str == "float");
  CHECK(f.inputs == std::vector<std::uint32_t>({0}));
  CHECK(f.outputs == std::vector<std::uint32_t>({4}));
  CHECK_EQ(f.metadata.size(), 1u);
  CHECK_EQ(f.metadata[0].second, std::string("test"));
}

TEST(read_file_and_missing_file) {
  IrbTestWriter w = sample();
  const std::string path = "test_format_roundtrip.irb";
  IrbTestWriter::save(w.build(), path);
  CHECK_EQ(irnet::read_irb_file(path, irnet::crc32_ref).tensors.size(), 5u);
  std::remove(path.c_str());
  CHECK_THROWS(irnet::read_irb_file("does/not/exist.irb", irnet::crc32_ref), "cannot open model file 'does/not/exist.irb'");
}

TEST(every_truncation_is_rejected) {
  IrbTestWriter w = sample();
  const std::vector<std::uint8_t> good = w.build();
  for (std::size_t len = 0; len < good.size(); ++len) {
    std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    CHECK_THROWS(parse(cut), "test.irb: ");
  }
}

TEST(graph_truncated_at_each_section_boundary) {
  // Shrink graph_size to end exactly at each table boundary (crc refixed):
  // the parser must report a truncated graph section, never read past it.
  IrbTestWriter w = sample();
  const std::vector<std::uint8_t> good = w.build();
  for (const char* key : {"strings.count", "string3.len", "tensors.count", "tensor2.dim1", "tensor2.offset",
                          "nodes.count", "node1.in2", "node1.attr1.count", "inputs.count", "outputs.count",
                          "metadata.count"}) {
    std::vector<std::uint8_t> f = good;
    IrbTestWriter::patch(f, 32, w.offset(key) - 64, 8);
    CHECK_THROWS(parse(f), "truncated graph section");
  }
  std::vector<std::uint8_t> f = good;  // one byte short of the end
  IrbTestWriter::patch(f, 32, w.offset("graph.end") - 64 - 1, 8);
  CHECK_THROWS(parse(f), "truncated graph section");
}

TEST(every_flipped_byte_is_rejected) {
  IrbTestWriter w = sample();
  const std::vector<std::uint8_t> good = w.build();
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::vector<std::uint8_t> f = good;
    f[i] ^= 0x10;
    CHECK_THROWS(parse(f), "test.irb: ");
  }
  std::vector<std::uint8_t> f = good;
  f[200] ^= 1;
  CHECK_THROWS(parse(f), "crc32 mismatch");
}

TEST(header_checks) {
  IrbTestWriter w = sample();
  const std::vector<std::uint8_t> good = w.build();
  std::vector<std::uint8_t> f = good;
  f[0] = 'X';
  CHECK_THROWS(parse(f), "bad magic");
  f = good;
  IrbTestWriter::patch(f, 8, 2, 4);
  CHECK_THROWS(parse(f), "model format version 2 is newer than this irnet (supports <= 1); upgrade irnet-infer");
  f = good;
  IrbTestWriter::patch(f, 8, 0, 4);
  CHECK_THROWS(parse(f), "format version 0 is invalid");
  f = good;
  IrbTestWriter::patch(f, 12, 32, 4);
  CHECK_THROWS(parse(f), "header_size 32");
  f = good;
  f[16] ^= 1;  // file_size, crc not refixed
  CHECK_THROWS(parse(f), "file_size");
  f = good;
  IrbTestWriter::patch(f, 56, 1, 4);
  CHECK_THROWS(parse(f), "flags 1");
  f = good;
  std::memcpy(f.data() + f.size() - 4, "IENX", 4);
  CHECK_THROWS(parse(f), "missing end magic");
  f = good;
  f.resize(f.size() + 16);
  std::memcpy(f.data() + f.size() - 4, "IEND", 4);
  IrbTestWriter::refix(f);
  CHECK(parse(f).tensors.size() == 5);  // sections need not reach the trailer
}

TEST(section_bounds) {
  IrbTestWriter w = sample();
  const std::vector<std::uint8_t> good = w.build();
  std::vector<std::uint8_t> f = good;
  IrbTestWriter::patch(f, 24, 60, 8);
  CHECK_THROWS(parse(f), "graph section");
  f = good;
  IrbTestWriter::patch(f, 24, 68, 8);  // not 8-byte aligned
  CHECK_THROWS(parse(f), "graph section");
  f = good;
  IrbTestWriter::patch(f, 32, ~0ull - 10, 8);  // graph_size that overflows offset + size
  CHECK_THROWS(parse(f), "graph section");
  f = good;
  IrbTestWriter::patch(f, 40, 65, 8);
  CHECK_THROWS(parse(f), "data section");
  f = good;
  IrbTestWriter::patch(f, 40, 64, 8);  // overlaps the graph section
  CHECK_THROWS(parse(f), "data section");
  f = good;
  IrbTestWriter::patch(f, 48, ~0ull, 8);
  CHECK_THROWS(parse(f), "data section");
}

TEST(huge_counts_and_sizes) {
  IrbTestWriter w = sample();
  const std::vector<std::uint8_t> good = w.build();
  for (const char* key : {"strings.count", "tensors.count", "nodes.count", "node1.n_in", "node1.n_out",
                          "node1.n_attr", "inputs.count", "outputs.count", "metadata.count"}) {
    std::vector<std::uint8_t> f = good;
    IrbTestWriter::patch(f, w.offset(key), 0xFFFFFFFFu, 4);
    CHECK_THROWS(parse(f), "cannot fit");
  }
  std::vector<std::uint8_t> f = good;
  IrbTestWriter::patch(f, w.offset("string0.len"), 0xFFFFFFF0u, 4);
  CHECK_THROWS(parse(f), "truncated graph section");
  f = good;
  IrbTestWriter::patch(f, w.offset("node1.attr0.count"), 0x7FFFFFFFu, 4);
  CHECK_THROWS(parse(f), "exceeds the section");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor0.dim3"), 0, 8);
  CHECK_THROWS(parse(f), "dim 3 = 0 is not in [1, 2^31)");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor0.dim3"), 1ull << 40, 8);
  CHECK_THROWS(parse(f), "is not in [1, 2^31)");
  // Dims each valid but whose product overflows 64 bits.
  IrbTestWriter big;
  const auto t = big.tensor("big", 1, {1u << 30, 1u << 30, 1u << 30, 1u << 30});
  big.io({t}, {t});
  CHECK_THROWS(parse(big.build()), "tensor 0 'big': shape [1073741824, 1073741824, 1073741824, 1073741824] is too large");
  // An activation just over the 1 GiB limit (2^28 + 1 floats) is refused, one at it accepted.
  IrbTestWriter over;
  const auto o = over.tensor("wide", 1, {1, (1u << 28) + 1});
  over.io({o}, {o});
  CHECK_THROWS(parse(over.build()), "tensor 0 'wide': activation of shape [1, 268435457] takes 1073741828 bytes, "
                                    "more than the limit of 1073741824 (1 GiB)");
  IrbTestWriter at_limit;
  const auto l = at_limit.tensor("wide", 1, {1, 1u << 28});
  at_limit.io({l}, {l});
  CHECK(parse(at_limit.build()).tensors.size() == 1);
}

TEST(tensor_record_checks) {
  IrbTestWriter w = sample();
  const std::vector<std::uint8_t> good = w.build();
  std::vector<std::uint8_t> f = good;
  IrbTestWriter::patch(f, w.offset("tensor1.dtype"), 9, 1);
  CHECK_THROWS(parse(f), "tensor 1 'x.bits': unknown dtype code 9");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor1.layout"), 2, 1);
  CHECK_THROWS(parse(f), "unknown layout code 2");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor1.rank"), 7, 1);
  CHECK_THROWS(parse(f), "rank 7 > 6");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor3"), 99, 4);
  CHECK_THROWS(parse(f), "string id 99 out of range");
  // Constants: misaligned, outside the data section, wrong size, activation with a size.
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor3.offset"), 72, 8);
  CHECK_THROWS(parse(f), "tensor 3 'conv.bias': constant data_offset 72 is not 64-byte aligned");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor3.offset"), 1ull << 62, 8);
  CHECK_THROWS(parse(f), "lies outside the data section");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor3.offset"), ~0ull - 63, 8);
  CHECK_THROWS(parse(f), "lies outside the data section");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor3.size"), 16, 8);
  CHECK_THROWS(parse(f), "constant data_size 16 but f32 [3] needs 12 bytes");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor2.size"), 40, 8);
  CHECK_THROWS(parse(f), "needs 48 bytes");
  f = good;
  IrbTestWriter::patch(f, w.offset("tensor4.size"), 12, 8);
  CHECK_THROWS(parse(f), "an activation must have data_size 0");
  // nhwc needs rank 4.
  IrbTestWriter bad;
  const auto t = bad.tensor("img", 1, {1, 2, 3}, 1);
  bad.io({t}, {t});
  CHECK_THROWS(parse(bad.build()), "layout nhwc needs rank 4");
}

TEST(node_record_checks) {
  IrbTestWriter w = sample();
  const std::vector<std::uint8_t> good = w.build();
  std::vector<std::uint8_t> f = good;
  IrbTestWriter::patch(f, w.offset("node1.in0"), 5, 4);
  CHECK_THROWS(parse(f), "node 1 'conv' (BinaryConv2d): tensor id 5 out of range (5 tensors)");
  f = good;
  IrbTestWriter::patch(f, w.offset("node0.out0"), irnet_test::kAbsent, 4);
  CHECK_THROWS(parse(f), "tensor id 4294967295 out of range");
  f = good;
  IrbTestWriter::patch(f, w.offset("node1"), 77, 4);
  CHECK_THROWS(parse(f), "string id 77 out of range");
  f = good;
  IrbTestWriter::patch(f, w.offset("node1.attr0.type"), 4, 1);
  CHECK_THROWS(parse(f), "attribute 'kernel' has unknown type 4");
  f = good;
  IrbTestWriter::patch(f, w.offset("node1.attr2.count"), 2, 4);
  CHECK_THROWS(parse(f), "string attribute 'mode' must have count 1");
  f = good;
  IrbTestWriter::patch(f, w.offset("output0"), 12, 4);
  CHECK_THROWS(parse(f), "graph outputs: tensor id 12 out of range");
  f = good;
  IrbTestWriter::patch(f, w.offset("input0"), 1000, 4);
  CHECK_THROWS(parse(f), "graph inputs: tensor id 1000 out of range");
  IrbTestWriter dup;
  const auto x = dup.tensor("x", 1, {4});
  const auto y = dup.tensor("y", 1, {4});
  dup.node("Clip", "c", {x}, {y}, {irnet_test::floats_attr("clip", {0, 1}), irnet_test::floats_attr("clip", {0, 2})});
  dup.io({x}, {y});
  CHECK_THROWS(parse(dup.build()), "attribute 'clip' given twice");
}

TEST(packed_weights_with_tail_bits_set_are_rejected) {
  // Bits past the last channel must be 0 (docs/format.md): set, they would
  // change BinaryConv2d / BinaryGemm outputs. Each bit past
  // channel 69 of each row's last word, alone; bits 0-5 (channels 64-69) stay valid.
  for (std::size_t row = 0; row < 3; ++row)
    for (int bit = 6; bit < 64; bit += 19) {
      std::uint64_t words[3 * 2];
      std::memcpy(words, kWeights, sizeof words);
      words[row * 2 + 1] |= std::uint64_t{1} << bit;
      IrbTestWriter w;
      const auto x = w.tensor("x", 1, {1, 70});
      const auto k = w.constant("w", 3, {3, 70}, words, sizeof words);
      w.node("Relu", "r", {x}, {w.tensor("y", 1, {1, 70})});
      w.io({x}, {2});
      (void)k;
      CHECK_THROWS(parse(w.build()),
                   "tensor 1 'w': packed row " + std::to_string(row) + " has bits set past its 70 channels");
    }
  std::uint64_t words[3 * 2];
  std::memcpy(words, kWeights, sizeof words);
  words[1] = 0x3F;  // channels 64-69: all used
  IrbTestWriter w;
  const auto x = w.tensor("x", 1, {1, 70});
  w.constant("w", 3, {3, 70}, words, sizeof words);
  w.node("Relu", "r", {x}, {w.tensor("y", 1, {1, 70})});
  w.io({x}, {2});
  CHECK_EQ(parse(w.build()).tensors.size(), 3u);
}

TEST(names_must_be_utf8) {
  // Names reach Python as str: invalid UTF-8 would raise UnicodeDecodeError
  // from every call. Each string of the file is checked as
  // Python's strict decoder would: valid ones pass, each invalid form is refused.
  const std::vector<std::string> valid = {"conv1", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                          "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xef\xbf\xbf"};
  const std::vector<std::string> invalid = {
      "\xff",              // never valid
      "ab\xc3",            // truncated 2-byte sequence
      "\xc0\xaf",         // overlong '/'
      "\xe0\x80\xaf",    // overlong, 3 bytes
      "\xed\xa0\x80",    // surrogate U+D800
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xf0\x8f\xbf\xbf",  // overlong, 4 bytes
      "\x80",              // lone continuation byte
      "\xe2\x82",         // truncated 3-byte sequence
      "\xf8\x88\x80\x80\x80",  // 5-byte form
  };
  const auto file_with_node_name = [](const std::string& name) {
    IrbTestWriter w;
    const auto x = w.tensor("x", 1, {1, 4});
    w.node("Relu", name, {x}, {w.tensor("y", 1, {1, 4})});
    w.io({x}, {1});
    return w.build();
  };
  for (const std::string& name : valid) {
    const irnet::IrbFile f = parse(file_with_node_name(name));
    CHECK_EQ(f.nodes[0].name, name);
  }
  for (const std::string& name : invalid) CHECK_THROWS(parse(file_with_node_name(name)), "is not valid UTF-8");
}

TEST(a_directory_or_device_is_not_a_model_file) {
  // A directory opens as a stream of "size" 2^63 - 1 and a device reads
  // forever: only regular files are model files.
  CHECK_THROWS(irnet::read_irb_file(".", irnet::crc32_ref), "'.' is a directory, not a model file");
  CHECK_THROWS(irnet::read_irb_file("/dev/null", irnet::crc32_ref), "'/dev/null' is not a regular file");
}

TEST(trailing_graph_bytes) {
  IrbTestWriter w = sample();
  std::vector<std::uint8_t> f = w.build();
  // The graph section ends before data_offset: claim 4 more bytes (zero padding).
  const std::uint64_t graph_size = w.offset("graph.end") - 64;
  IrbTestWriter::patch(f, 32, graph_size + 4, 8);
  CHECK_THROWS(parse(f), "4 unparsed bytes at the end of the graph section");
}

int main() { return irnet_test::run_all(); }
