// A tiny independent .irb writer for the C++ tests (docs/format.md).
//
// It builds valid files and records the file offset of every field it writes
// under a readable key ("tensor1.dtype", "node0.in0", "strings.count", ...), so
// a test can corrupt exactly one field with patch_*() and then refix() the
// size/crc trailer to reach the check it wants to exercise.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "format/crc32.h"

namespace irnet_test {

struct TestAttr {
  std::string key;
  int type;  // 1 ints, 2 floats, 3 string
  std::vector<std::int64_t> ints;
  std::vector<float> floats;
  std::string str;
};
inline TestAttr ints_attr(const std::string& k, std::vector<std::int64_t> v) { return {k, 1, std::move(v), {}, ""}; }
inline TestAttr floats_attr(const std::string& k, std::vector<float> v) { return {k, 2, {}, std::move(v), ""}; }
inline TestAttr str_attr(const std::string& k, const std::string& s) { return {k, 3, {}, {}, s}; }

constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;

class IrbTestWriter {
 public:
  std::uint32_t tensor(const std::string& name, int dtype, std::vector<std::uint64_t> dims, int layout = 0) {
    tensors_.push_back({name, dtype, layout, std::move(dims), {}, false});
    return static_cast<std::uint32_t>(tensors_.size() - 1);
  }
  std::uint32_t constant(const std::string& name, int dtype, std::vector<std::uint64_t> dims,
                         const void* data, std::size_t bytes) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    tensors_.push_back({name, dtype, 0, std::move(dims), std::vector<std::uint8_t>(p, p + bytes), true});
    return static_cast<std::uint32_t>(tensors_.size() - 1);
  }
  void node(const std::string& op, const std::string& name, std::vector<std::uint32_t> in,
            std::vector<std::uint32_t> out, std::vector<TestAttr> attrs = {}) {
    nodes_.push_back({op, name, std::move(in), std::move(out), std::move(attrs)});
  }
  void io(std::vector<std::uint32_t> in, std::vector<std::uint32_t> out) {
    inputs_ = std::move(in);
    outputs_ = std::move(out);
  }
  void meta(const std::string& k, const std::string& v) { meta_.push_back({k, v}); }

  // Serializes; fills offsets() with the position of every field.
  std::vector<std::uint8_t> build() {
    offsets_.clear();
    strings_.clear();
    for (const auto& t : tensors_) sid(t.name);
    for (const auto& n : nodes_) {
      sid(n.op);
      sid(n.name);
      for (const auto& a : n.attrs) {
        sid(a.key);
        if (a.type == 3) sid(a.str);
      }
    }
    for (const auto& m : meta_) { sid(m.first); sid(m.second); }

    out_.assign(64, 0);  // header, filled last
    mark("strings.count"); u32(static_cast<std::uint32_t>(strings_.size()));
    for (std::size_t i = 0; i < strings_.size(); ++i) {
      mark("string" + std::to_string(i) + ".len");
      u32(static_cast<std::uint32_t>(strings_[i].size()));
      out_.insert(out_.end(), strings_[i].begin(), strings_[i].end());
    }
    std::vector<std::uint64_t> const_offsets;
    std::uint64_t data_size = 0;
    for (const auto& t : tensors_) {
      if (!t.constant) { const_offsets.push_back(~0ull); continue; }
      data_size = (data_size + 63) / 64 * 64;
      const_offsets.push_back(data_size);
      data_size += t.data.size();
    }
    mark("tensors.count"); u32(static_cast<std::uint32_t>(tensors_.size()));
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const auto& t = tensors_[i];
      const std::string k = "tensor" + std::to_string(i);
      mark(k); u32(sid(t.name));
      mark(k + ".dtype"); u8(static_cast<std::uint8_t>(t.dtype));
      mark(k + ".layout"); u8(static_cast<std::uint8_t>(t.layout));
      mark(k + ".rank"); u8(static_cast<std::uint8_t>(t.dims.size()));
      u8(0);
      for (std::size_t d = 0; d < t.dims.size(); ++d) { mark(k + ".dim" + std::to_string(d)); u64(t.dims[d]); }
      mark(k + ".offset"); u64(const_offsets[i]);
      mark(k + ".size"); u64(t.constant ? t.data.size() : 0);
    }
    mark("nodes.count"); u32(static_cast<std::uint32_t>(nodes_.size()));
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const auto& n = nodes_[i];
      const std::string k = "node" + std::to_string(i);
      mark(k); u32(sid(n.op)); u32(sid(n.name));
      mark(k + ".n_in"); u32(static_cast<std::uint32_t>(n.in.size()));
      for (std::size_t j = 0; j < n.in.size(); ++j) { mark(k + ".in" + std::to_string(j)); u32(n.in[j]); }
      mark(k + ".n_out"); u32(static_cast<std::uint32_t>(n.out.size()));
      for (std::size_t j = 0; j < n.out.size(); ++j) { mark(k + ".out" + std::to_string(j)); u32(n.out[j]); }
      mark(k + ".n_attr"); u32(static_cast<std::uint32_t>(n.attrs.size()));
      for (std::size_t j = 0; j < n.attrs.size(); ++j) {
        const auto& a = n.attrs[j];
        const std::string ka = k + ".attr" + std::to_string(j);
        mark(ka); u32(sid(a.key));
        mark(ka + ".type"); u8(static_cast<std::uint8_t>(a.type));
        mark(ka + ".count");
        if (a.type == 1) { u32(static_cast<std::uint32_t>(a.ints.size())); for (auto v : a.ints) u64(static_cast<std::uint64_t>(v)); }
        if (a.type == 2) { u32(static_cast<std::uint32_t>(a.floats.size())); for (float v : a.floats) { std::uint32_t b; std::memcpy(&b, &v, 4); u32(b); } }
        if (a.type == 3) { u32(1); u32(sid(a.str)); }
      }
    }
    mark("inputs.count"); u32(static_cast<std::uint32_t>(inputs_.size()));
    for (std::size_t j = 0; j < inputs_.size(); ++j) { mark("input" + std::to_string(j)); u32(inputs_[j]); }
    mark("outputs.count"); u32(static_cast<std::uint32_t>(outputs_.size()));
    for (std::size_t j = 0; j < outputs_.size(); ++j) { mark("output" + std::to_string(j)); u32(outputs_[j]); }
    mark("metadata.count"); u32(static_cast<std::uint32_t>(meta_.size()));
    for (const auto& m : meta_) { u32(sid(m.first)); u32(sid(m.second)); }
    const std::uint64_t graph_size = out_.size() - 64;
    mark("graph.end");
    const std::uint64_t data_offset = (out_.size() + 63) / 64 * 64;
    out_.resize(data_offset + data_size, 0);
    for (std::size_t i = 0; i < tensors_.size(); ++i)
      if (tensors_[i].constant)
        std::memcpy(out_.data() + data_offset + const_offsets[i], tensors_[i].data.data(), tensors_[i].data.size());
    out_.resize(out_.size() + 8, 0);
    std::memcpy(out_.data(), "IRNETB\r\n", 8);
    put(8, 1, 4);
    put(12, 64, 4);
    put(24, 64, 8);
    put(32, graph_size, 8);
    put(40, data_offset, 8);
    put(48, data_size, 8);
    std::memcpy(out_.data() + out_.size() - 4, "IEND", 4);
    refix(out_);
    return out_;
  }

  std::size_t offset(const std::string& key) const { return offsets_.at(key); }

 private:
  struct T { std::string name; int dtype, layout; std::vector<std::uint64_t> dims; std::vector<std::uint8_t> data; bool constant; };
  struct N { std::string op, name; std::vector<std::uint32_t> in, out; std::vector<TestAttr> attrs; };

  std::uint32_t sid(const std::string& s) {
    for (std::size_t i = 0; i < strings_.size(); ++i)
      if (strings_[i] == s) return static_cast<std::uint32_t>(i);
    strings_.push_back(s);
    return static_cast<std::uint32_t>(strings_.size() - 1);
  }
  void mark(const std::string& key) { offsets_[key] = out_.size(); }
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
  void u64(std::uint64_t v) { for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
  void put(std::size_t at, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out_[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }

 public:
  // Rewrites file_size and the crc32 for the current contents.
  static void refix(std::vector<std::uint8_t>& f) {
    const std::uint64_t size = f.size();
    for (int i = 0; i < 8; ++i) f[16 + i] = static_cast<std::uint8_t>(size >> (8 * i));
    const std::uint32_t crc = irnet::crc32_slicing(f.data(), f.size() - 8);
    for (int i = 0; i < 4; ++i) f[f.size() - 8 + i] = static_cast<std::uint8_t>(crc >> (8 * i));
  }
  static void patch(std::vector<std::uint8_t>& f, std::size_t at, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) f[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    refix(f);
  }
  static void save(const std::vector<std::uint8_t>& f, const std::string& path) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(f.data()),
                                                static_cast<std::streamsize>(f.size()));
  }

 private:
  std::vector<T> tensors_;
  std::vector<N> nodes_;
  std::vector<std::uint32_t> inputs_, outputs_;
  std::vector<std::pair<std::string, std::string>> meta_;
  std::vector<std::string> strings_;
  std::vector<std::uint8_t> out_;
  std::map<std::string, std::size_t> offsets_;
};

}  // namespace irnet_test
