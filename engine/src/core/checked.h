// Checked size arithmetic: the one way the loader, the memory planner and the
// ops compute sizes, offsets and counts from a model file's (untrusted) shapes
// and attributes.
//
// Each function returns the exact result as std::size_t, or throws
// irnet::Error (kInvalidArgument) when an operand is negative or the result
// does not fit: "<what>: 1864863099 * 65536 * 2 * 18867 * 4 overflows 64 bits".
// Ops are built inside the graph builder, which prefixes the node's name and
// op and turns the error into a kModelFormat one (graph/graph.cc), so the
// message names the layer and every operand. docs/hardening.md lists the
// places that use it.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "core/check.h"

namespace irnet {
namespace checked_detail {

// The operands as written, joined by `op`, for the overflow message.
template <typename... T>
std::string operands(const char* op, T... values) {
  std::string out;
  ((out += (out.empty() ? "" : op) + std::to_string(values)), ...);
  return out;
}

template <typename T>
std::size_t to_size(T v, const char* what) {
  static_assert(std::is_integral_v<T>, "checked arithmetic takes integers");
  if constexpr (std::is_signed_v<T>) {
    if (v < 0) fail(ErrorKind::kInvalidArgument, what, ": negative size ", v);
  }
  if constexpr (sizeof(T) > sizeof(std::size_t)) {
    if (static_cast<unsigned long long>(v) > static_cast<std::size_t>(-1))
      fail(ErrorKind::kInvalidArgument, what, ": ", v, " does not fit in size_t");
  }
  return static_cast<std::size_t>(v);
}

// Folds the values with step (__builtin_*_overflow); false on overflow.
template <typename Step, typename... T>
bool fold(std::size_t* result, std::size_t init, Step step, const char* what, T... values) {
  bool overflow = false;
  *result = init;
  for (std::size_t v : {to_size(values, what)...}) overflow |= step(*result, v, result);
  return !overflow;
}

inline bool mul_step(std::size_t a, std::size_t b, std::size_t* r) { return __builtin_mul_overflow(a, b, r); }
inline bool add_step(std::size_t a, std::size_t b, std::size_t* r) { return __builtin_add_overflow(a, b, r); }

template <typename... T>
[[noreturn]] void overflow(const char* what, const char* op, T... values) {
  fail(ErrorKind::kInvalidArgument, what, ": ", operands(op, values...), " overflows ", 8 * sizeof(std::size_t),
       " bits");
}

}  // namespace checked_detail

// a * b * ...
template <typename... T>
std::size_t checked_mul(const char* what, T... factors) {
  std::size_t result;
  if (!checked_detail::fold(&result, 1, checked_detail::mul_step, what, factors...))
    checked_detail::overflow(what, " * ", factors...);
  return result;
}

// a + b + ...
template <typename... T>
std::size_t checked_add(const char* what, T... terms) {
  std::size_t result;
  if (!checked_detail::fold(&result, 0, checked_detail::add_step, what, terms...))
    checked_detail::overflow(what, " + ", terms...);
  return result;
}

// value rounded up to a multiple of `multiple` (> 0).
template <typename T>
std::size_t checked_round_up(const char* what, T value, std::size_t multiple) {
  const std::size_t v = checked_detail::to_size(value, what);
  const std::size_t rem = v % multiple;
  return rem == 0 ? v : checked_add(what, v, multiple - rem);
}

// True when a * b * ... <= limit: a budget check that cannot overflow.
template <typename... T>
bool product_at_most(std::size_t limit, T... factors) {
  std::size_t result;
  return checked_detail::fold(&result, 1, checked_detail::mul_step, "budget check", factors...) && result <= limit;
}

}  // namespace irnet
