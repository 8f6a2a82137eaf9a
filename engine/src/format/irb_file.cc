#include "format/irb_file.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>
#include <type_traits>
#include <unordered_set>

#include "bitpack/bitpack.h"
#include "core/check.h"
#include "format/crc32.h"

namespace irnet {

namespace {

constexpr std::uint8_t kMagic[8] = {0x49, 0x52, 0x4E, 0x45, 0x54, 0x42, 0x0D, 0x0A};
constexpr std::uint8_t kEndMagic[4] = {'I', 'E', 'N', 'D'};
constexpr std::size_t kTrailerSize = 8;  // u32 crc32 + "IEND"

template <typename T>
T load_le(const std::uint8_t* p) {
  // Little-endian decode, byte by byte: correct on any host and alignment.
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v |= std::uint64_t{p[i]} << (8 * i);
  T out;
  if constexpr (std::is_same_v<T, float>) {
    const auto bits = static_cast<std::uint32_t>(v);
    std::memcpy(&out, &bits, sizeof out);
  } else {
    out = static_cast<T>(v);
  }
  return out;
}

// Sequential reader over one section [pos, end) of the file. Every read is
// bounds-checked against the section end; sizes use checked arithmetic.
class Cursor {
 public:
  Cursor(const std::uint8_t* base, std::uint64_t begin, std::uint64_t end, const std::string& source)
      : base_(base), pos_(begin), end_(end), source_(source) {}

  std::uint64_t pos() const { return pos_; }
  std::uint64_t remaining() const { return end_ - pos_; }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    const T v = load_le<T>(base_ + pos_);
    pos_ += sizeof(T);
    return v;
  }
  const std::uint8_t* bytes(std::uint64_t n, const char* what) {
    need(n, what);
    const std::uint8_t* p = base_ + pos_;
    pos_ += n;
    return p;
  }
  // Reads a u32 count of records of at least min_record_bytes each and checks
  // that so many records can fit in what is left of the section.
  std::uint32_t count(const char* what, std::uint64_t min_record_bytes) {
    const std::uint64_t at = pos_;
    const auto n = read<std::uint32_t>(what);
    if (min_record_bytes != 0 && n > remaining() / min_record_bytes)
      error(at, str_cat("truncated graph section: ", what, " count ", n, " cannot fit in the ", remaining(),
                        " bytes left in the graph section"));
    return n;
  }
  [[noreturn]] void error(std::uint64_t offset, const std::string& message) const {
    fail(ErrorKind::kModelFormat, source_, ": offset ", offset, ": ", message);
  }

 private:
  void need(std::uint64_t n, const char* what) const {
    if (n > end_ - pos_)
      error(pos_, str_cat("truncated graph section: ", what, " needs ", n, " bytes, ",
                          end_ - pos_, " left"));
  }
  const std::uint8_t* base_;
  std::uint64_t pos_, end_;
  const std::string& source_;
};

// Offset of the first byte that does not continue a well-formed UTF-8
// sequence (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF: what Python's strict decoder accepts), or len if all are valid.
std::size_t utf8_error_at(const std::uint8_t* p, std::size_t len) {
  std::size_t i = 0;
  while (i < len) {
    const std::uint8_t b = p[i];
    std::size_t n = 0;                  // continuation bytes
    std::uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (b < 0x80) n = 0;
    else if (b >= 0xC2 && b <= 0xDF) n = 1;
    else if (b == 0xE0) n = 2, lo = 0xA0;
    else if (b >= 0xE1 && b <= 0xEC) n = 2;
    else if (b == 0xED) n = 2, hi = 0x9F;
    else if (b >= 0xEE && b <= 0xEF) n = 2;
    else if (b == 0xF0) n = 3, lo = 0x90;
    else if (b >= 0xF1 && b <= 0xF3) n = 3;
    else if (b == 0xF4) n = 3, hi = 0x8F;
    else return i;
    if (n > len - i - 1) return i;
    for (std::size_t k = 1; k <= n; ++k) {
      const std::uint8_t c = p[i + k];
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return i;
    }
    i += n + 1;
  }
  return len;
}

struct Header {
  std::uint32_t version, header_size, flags, reserved;
  std::uint64_t file_size, graph_offset, graph_size, data_offset, data_size;
};

[[noreturn]] void format_error(const std::string& source, const std::string& message) {
  fail(ErrorKind::kModelFormat, source, ": ", message);
}

Header check_container(const AlignedBuffer& buf, const std::string& source) {
  const std::uint8_t* p = buf.data();
  const std::size_t size = buf.size();
  if (size < kIrbHeaderSize + kTrailerSize)
    format_error(source, str_cat("file is ", size, " bytes, smaller than the minimum ",
                                 kIrbHeaderSize + kTrailerSize, " (header + trailer): truncated?"));
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0)
    format_error(source, "offset 0: bad magic: not an .irb model file");
  Header h{};
  h.version = load_le<std::uint32_t>(p + 8);
  h.header_size = load_le<std::uint32_t>(p + 12);
  h.file_size = load_le<std::uint64_t>(p + 16);
  h.graph_offset = load_le<std::uint64_t>(p + 24);
  h.graph_size = load_le<std::uint64_t>(p + 32);
  h.data_offset = load_le<std::uint64_t>(p + 40);
  h.data_size = load_le<std::uint64_t>(p + 48);
  h.flags = load_le<std::uint32_t>(p + 56);
  h.reserved = load_le<std::uint32_t>(p + 60);
  if (h.version > kIrbFormatVersion)
    format_error(source, str_cat("model format version ", h.version,
                                 " is newer than this irnet (supports <= ", kIrbFormatVersion,
                                 "); upgrade irnet-infer"));
  if (h.version == 0) format_error(source, "offset 8: format version 0 is invalid");
  if (h.header_size != kIrbHeaderSize)
    format_error(source, str_cat("offset 12: header_size ", h.header_size, ", expected ",
                                 kIrbHeaderSize));
  if (h.file_size != size)
    format_error(source, str_cat("offset 16: header says file_size ", h.file_size,
                                 " but the file has ", size, " bytes (truncated or padded)"));
  if (std::memcmp(p + size - 4, kEndMagic, sizeof kEndMagic) != 0)
    format_error(source, str_cat("offset ", size - 4, ": missing end magic 'IEND' (truncated?)"));
  const std::uint32_t stored_crc = load_le<std::uint32_t>(p + size - kTrailerSize);
  const std::uint32_t actual_crc = crc32(p, size - kTrailerSize);
  if (stored_crc != actual_crc)
    format_error(source, str_cat("crc32 mismatch (stored 0x", std::hex, stored_crc, ", computed 0x",
                                 actual_crc, std::dec, "): the file is corrupt"));
  if (h.flags != 0 || h.reserved != 0)
    format_error(source, str_cat("offset 56: flags ", h.flags, " / reserved ", h.reserved,
                                 " must be 0 in format version 1"));
  // Sections: header | graph | data | trailer, in that order, without overlap.
  // All comparisons are written so that no addition can overflow.
  const std::uint64_t body_end = size - kTrailerSize;
  if (h.graph_offset < kIrbHeaderSize || h.graph_offset % 8 != 0 || h.graph_offset > body_end ||
      h.graph_size > body_end - h.graph_offset)
    format_error(source, str_cat("offset 24: graph section [", h.graph_offset, ", +", h.graph_size,
                                 ") is not 8-byte aligned inside [64, ", body_end, ")"));
  if (h.data_offset % kIrbConstAlign != 0 || h.data_offset < h.graph_offset + h.graph_size ||
      h.data_offset > body_end || h.data_size > body_end - h.data_offset)
    format_error(source, str_cat("offset 40: data section [", h.data_offset, ", +", h.data_size,
                                 ") is not 64-byte aligned between the graph section end ",
                                 h.graph_offset + h.graph_size, " and ", body_end));
  return h;
}

class GraphParser {
 public:
  GraphParser(IrbFile& file, const Header& h)
      : file_(file), h_(h),
        cur_(file.bytes.data(), h.graph_offset, h.graph_offset + h.graph_size, file.source) {}

  void parse() {
    parse_strings();
    parse_tensors();
    parse_nodes();
    file_.inputs = tensor_list("graph inputs");
    file_.outputs = tensor_list("graph outputs");
    const std::uint32_t n_meta = cur_.count("metadata", 8);
    for (std::uint32_t i = 0; i < n_meta; ++i) {
      const std::string& key = string_at(cur_.read<std::uint32_t>("metadata key"));
      const std::string& value = string_at(cur_.read<std::uint32_t>("metadata value"));
      file_.metadata.emplace_back(key, value);
    }
    if (cur_.remaining() != 0)
      cur_.error(cur_.pos(), str_cat(cur_.remaining(), " unparsed bytes at the end of the graph section"));
  }

 private:
  void parse_strings() {
    const std::uint32_t n = cur_.count("string table", 4);
    strings_.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint64_t at = cur_.pos();
      const auto len = cur_.read<std::uint32_t>("string length");
      const auto* p = cur_.bytes(len, "string bytes");
      if (std::memchr(p, 0, len) != nullptr) cur_.error(at, str_cat("string ", i, " contains NUL"));
      if (const std::size_t bad = utf8_error_at(p, len); bad != len)
        cur_.error(at, str_cat("string ", i, " is not valid UTF-8 (byte ", bad, " of ", len, ")"));
      strings_.emplace_back(reinterpret_cast<const char*>(p), len);
    }
  }

  const std::string& string_at(std::uint32_t id) {
    if (id >= strings_.size())
      cur_.error(cur_.pos() - 4, str_cat("string id ", id, " out of range (", strings_.size(),
                                         " strings)"));
    return strings_[id];
  }

  std::uint32_t tensor_id(std::uint32_t id, const char* what) {
    if (id >= file_.tensors.size())
      cur_.error(cur_.pos() - 4, str_cat(what, ": tensor id ", id, " out of range (",
                                         file_.tensors.size(), " tensors)"));
    return id;
  }

  void parse_tensors() {
    constexpr std::uint64_t kMinTensorRecord = 4 + 4 + 16;  // rank 0
    const std::uint32_t n = cur_.count("tensor table", kMinTensorRecord);
    file_.tensors.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint64_t at = cur_.pos();
      IrbTensor t;
      t.name = string_at(cur_.read<std::uint32_t>("tensor name"));
      const auto dtype = cur_.read<std::uint8_t>("tensor dtype");
      const auto layout = cur_.read<std::uint8_t>("tensor layout");
      const auto rank = cur_.read<std::uint8_t>("tensor rank");
      const auto reserved = cur_.read<std::uint8_t>("tensor reserved byte");
      const std::string who = str_cat("tensor ", i, " '", t.name, "'");
      if (dtype < 1 || dtype > 4)
        cur_.error(at, str_cat(who, ": unknown dtype code ", int{dtype}, " (1=f32, 2=i32, 3=bits, 4=i8)"));
      if (layout > 1) cur_.error(at, str_cat(who, ": unknown layout code ", int{layout}));
      if (rank > kIrbMaxRank) cur_.error(at, str_cat(who, ": rank ", int{rank}, " > ", kIrbMaxRank));
      if (reserved != 0) cur_.error(at, str_cat(who, ": reserved byte must be 0"));
      t.dtype = static_cast<DType>(dtype);
      t.layout = static_cast<TensorLayout>(layout);
      for (int d = 0; d < rank; ++d) {
        const auto dim = cur_.read<std::uint64_t>("tensor dim");
        if (dim < 1 || dim > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
          cur_.error(at, str_cat(who, ": dim ", d, " = ", dim, " is not in [1, 2^31)"));
        t.shape.push_back(static_cast<std::int64_t>(dim));
      }
      if (t.layout == TensorLayout::kNhwc && rank != 4)
        cur_.error(at, str_cat(who, ": layout nhwc needs rank 4, got ", int{rank}));
      if (t.dtype == DType::kBits && rank == 0)
        cur_.error(at, str_cat(who, ": a bits tensor needs rank >= 1"));
      std::size_t bytes = 0;
      try {
        bytes = tensor_bytes(t.dtype, t.shape);
      } catch (const Error&) {
        cur_.error(at, str_cat(who, ": shape ", shape_str(t.shape), " is too large"));
      }
      const auto offset = cur_.read<std::uint64_t>("tensor data_offset");
      const auto size = cur_.read<std::uint64_t>("tensor data_size");
      if (offset == kIrbActivationOffset) {
        if (size != 0) cur_.error(at, str_cat(who, ": an activation must have data_size 0"));
        if (bytes > kIrbMaxActivationBytes)
          cur_.error(at, str_cat(who, ": activation of shape ", shape_str(t.shape), " takes ", bytes,
                                 " bytes, more than the limit of ", kIrbMaxActivationBytes, " (1 GiB)"));
      } else {
        if (size != bytes)
          cur_.error(at, str_cat(who, ": constant data_size ", size, " but ", dtype_name(t.dtype),
                                 " ", shape_str(t.shape), " needs ", bytes, " bytes"));
        if (offset % kIrbConstAlign != 0)
          cur_.error(at, str_cat(who, ": constant data_offset ", offset, " is not 64-byte aligned"));
        if (offset > h_.data_size || size > h_.data_size - offset)
          cur_.error(at, str_cat(who, ": constant [", offset, ", +", size,
                                 ") lies outside the data section (", h_.data_size, " bytes)"));
        t.data = file_.bytes.data() + h_.data_offset + offset;
        if (t.dtype == DType::kBits) check_bits_tail(t, at, who);
      }
      file_.tensors.push_back(std::move(t));
    }
  }

  // docs/format.md: the bits past the last channel of each packed row are 0
  // (kernels XOR them against activations' zero tails and count the result).
  // One error per tensor, naming the first offending row.
  void check_bits_tail(const IrbTensor& t, std::uint64_t at, const std::string& who) {
    const auto channels = static_cast<std::size_t>(t.shape.back());
    const std::size_t used = channels % kBitsPerWord;
    if (used == 0) return;
    const std::size_t words = packed_words(channels);
    const std::size_t rows = tensor_bytes(t.dtype, t.shape) / sizeof(BitWord) / words;
    const BitWord tail_mask = ~BitWord{0} << used;
    const auto* bytes = static_cast<const std::uint8_t*>(t.data);
    for (std::size_t r = 0; r < rows; ++r)
      if (load_le<std::uint64_t>(bytes + ((r + 1) * words - 1) * sizeof(BitWord)) & tail_mask)
        cur_.error(at, str_cat(who, ": packed row ", r, " has bits set past its ", channels,
                               " channels (the unused bits of the last word must be 0)"));
  }

  void parse_nodes() {
    constexpr std::uint64_t kMinNodeRecord = 5 * 4;
    const std::uint32_t n = cur_.count("node table", kMinNodeRecord);
    file_.nodes.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      IrbNode node;
      node.file_offset = cur_.pos();
      node.op = string_at(cur_.read<std::uint32_t>("node op"));
      node.name = string_at(cur_.read<std::uint32_t>("node name"));
      const std::string who = str_cat("node ", i, " '", node.name, "' (", node.op, ")");
      const std::uint32_t n_in = cur_.count("node input", 4);
      for (std::uint32_t k = 0; k < n_in; ++k) {
        const auto id = cur_.read<std::uint32_t>("node input id");
        node.inputs.push_back(id == kIrbAbsentTensor ? id : tensor_id(id, who.c_str()));
      }
      const std::uint32_t n_out = cur_.count("node output", 4);
      for (std::uint32_t k = 0; k < n_out; ++k)
        node.outputs.push_back(tensor_id(cur_.read<std::uint32_t>("node output id"), who.c_str()));
      const std::uint32_t n_attr = cur_.count("node attribute", 9);
      std::unordered_set<std::string_view> keys;
      for (std::uint32_t k = 0; k < n_attr; ++k) node.attrs.push_back(parse_attr(who, keys));
      file_.nodes.push_back(std::move(node));
    }
  }

  // keys: the node's attribute keys so far (a hash set: a node may have many).
  IrbAttr parse_attr(const std::string& who, std::unordered_set<std::string_view>& keys) {
    const std::uint64_t at = cur_.pos();
    IrbAttr a;
    const std::string& key = string_at(cur_.read<std::uint32_t>("attribute key"));  // lives in strings_
    if (!keys.insert(key).second) cur_.error(at, str_cat(who, ": attribute '", key, "' given twice"));
    a.key = key;
    const auto type = cur_.read<std::uint8_t>("attribute type");
    const auto count = cur_.read<std::uint32_t>("attribute count");
    const std::uint64_t item = type == 1 ? 8 : 4;
    if (count > cur_.remaining() / item)
      cur_.error(at, str_cat(who, ": attribute '", a.key, "' count ", count, " exceeds the section"));
    switch (type) {
      case 1:
        a.type = AttrType::kInts;
        for (std::uint32_t j = 0; j < count; ++j)
          a.ints.push_back(cur_.read<std::int64_t>("attribute value"));
        break;
      case 2:
        a.type = AttrType::kFloats;
        for (std::uint32_t j = 0; j < count; ++j)
          a.floats.push_back(cur_.read<float>("attribute value"));
        break;
      case 3:
        a.type = AttrType::kString;
        if (count != 1)
          cur_.error(at, str_cat(who, ": string attribute '", a.key, "' must have count 1, has ", count));
        a.str = string_at(cur_.read<std::uint32_t>("attribute string id"));
        break;
      default:
        cur_.error(at, str_cat(who, ": attribute '", a.key, "' has unknown type ", int{type},
                               " (1=ints, 2=floats, 3=string)"));
    }
    return a;
  }

  std::vector<std::uint32_t> tensor_list(const char* what) {
    const std::uint32_t n = cur_.count(what, 4);
    std::vector<std::uint32_t> ids;
    for (std::uint32_t i = 0; i < n; ++i) ids.push_back(tensor_id(cur_.read<std::uint32_t>(what), what));
    return ids;
  }

  IrbFile& file_;
  const Header& h_;
  Cursor cur_;
  std::vector<std::string> strings_;
};

}  // namespace

IrbFile parse_irb(AlignedBuffer bytes, const std::string& source) {
  IrbFile file;
  file.source = source;
  file.bytes = std::move(bytes);
  const Header h = check_container(file.bytes, file.source);
  file.version = h.version;
  GraphParser(file, h).parse();
  return file;
}

IrbFile read_irb_file(const std::string& path) {
  // A directory opens as a stream of unknown size, a device or pipe reads
  // forever: only regular files are model files.
  std::error_code status_error;
  const std::filesystem::file_status status = std::filesystem::status(path, status_error);
  if (std::filesystem::is_directory(status)) fail(ErrorKind::kIo, "'", path, "' is a directory, not a model file");
  if (!status_error && !std::filesystem::is_regular_file(status))
    fail(ErrorKind::kIo, "'", path, "' is not a regular file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(ErrorKind::kIo, "cannot open model file '", path, "'");
  const std::streamoff size = in.tellg();
  if (size < 0) fail(ErrorKind::kIo, "cannot determine the size of '", path, "'");
  AlignedBuffer buf(static_cast<std::size_t>(size), "the model file");
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(buf.data()), size))
    fail(ErrorKind::kIo, "failed to read ", size, " bytes from '", path, "'");
  return parse_irb(std::move(buf), path);
}

}  // namespace irnet
