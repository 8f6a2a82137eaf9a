// The .irb container, parsed and validated (docs/format.md).
//
// parse_irb() takes the whole file as one aligned buffer and checks
// everything the container itself can prove before anything is used: size,
// magic, version, header fields, end magic and crc32 first; then every table,
// string, count and constant against its section in checked 64-bit arithmetic,
// every tensor/string id against its table, dtypes, layouts, ranks and dims.
// Graph-level checks (ops known, inputs defined before use, shapes chaining)
// need the op table and are done by the graph builder (graph/graph.cc).
// Errors are irnet::Error(kModelFormat) naming the source, file offset and the
// tensor or node concerned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/types.h"

namespace irnet {

constexpr std::uint32_t kIrbFormatVersion = 1;
constexpr std::uint32_t kIrbHeaderSize = 64;
constexpr std::uint32_t kIrbAbsentTensor = 0xFFFFFFFFu;
constexpr std::uint64_t kIrbActivationOffset = ~std::uint64_t{0};
constexpr std::size_t kIrbConstAlign = 64;
// Constants at kIrbConstAlign-aligned file offsets are aligned in memory too.
static_assert(kIrbConstAlign <= kBufferAlign, "the file buffer is at least as aligned as its constants");
constexpr std::size_t kIrbMaxRank = 6;
// The largest activation a model may declare. Far above any network this
// engine targets (ResNet-18's largest is 3.2 MB), and it keeps an untrusted
// file from making the loader build per-pixel tables and arenas of many GB.
constexpr std::size_t kIrbMaxActivationBytes = std::size_t{1} << 30;

enum class TensorLayout : std::uint8_t { kPlain = 0, kNhwc = 1 };

struct IrbTensor {
  std::string name;
  DType dtype = DType::kF32;
  TensorLayout layout = TensorLayout::kPlain;
  Shape shape;                 // logical shape, NHWC for layout 1
  const void* data = nullptr;  // constants: inside the file buffer; nullptr for activations
};

enum class AttrType : std::uint8_t { kInts = 1, kFloats = 2, kString = 3 };

struct IrbAttr {
  std::string key;
  AttrType type = AttrType::kInts;
  std::vector<std::int64_t> ints;
  std::vector<float> floats;
  std::string str;
};

struct IrbNode {
  std::string op;
  std::string name;
  std::vector<std::uint32_t> inputs;  // kIrbAbsentTensor for an absent optional input
  std::vector<std::uint32_t> outputs;
  std::vector<IrbAttr> attrs;
  std::uint64_t file_offset = 0;  // where the node record starts, for messages
};

struct IrbFile {
  std::string source;  // path or "<memory>", used in messages
  AlignedBuffer bytes;
  std::uint32_t version = 0;
  std::vector<IrbTensor> tensors;
  std::vector<IrbNode> nodes;
  std::vector<std::uint32_t> inputs;
  std::vector<std::uint32_t> outputs;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Parses and validates `bytes` (see the file comment). `source` names the file in errors.
IrbFile parse_irb(AlignedBuffer bytes, const std::string& source);
// Reads the whole file into an aligned buffer (kIo on failure), then parse_irb.
IrbFile read_irb_file(const std::string& path);

}  // namespace irnet
