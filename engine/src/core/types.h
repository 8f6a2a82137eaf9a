// The engine's shared vocabulary: tensor element types and shapes, and the
// 64-bit word that packed binary tensors are made of. Every layer (the file
// format, the graph runtime, the ops and the kernels) speaks these; this header
// depends on nothing else of the engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace irnet {

enum class DType : std::uint8_t { kF32 = 1, kI32 = 2, kBits = 3, kI8 = 4 };

using Shape = std::vector<std::int64_t>;

// Bytes a tensor of this dtype and logical shape occupies (checked: throws on overflow).
std::size_t tensor_bytes(DType dtype, const Shape& shape);
const char* dtype_name(DType dtype);
std::string shape_str(const Shape& shape);

// A row of C binary channels packs into packed_words(C) words: channel c is
// bit (c % 64) of word (c / 64), and the tail bits past C are 0
// (bitpack/bitpack.h states what a bit means).
using BitWord = std::uint64_t;
constexpr int kBitsPerWord = 64;

constexpr std::size_t packed_words(std::size_t channels) {
  return (channels + kBitsPerWord - 1) / kBitsPerWord;
}

}  // namespace irnet
