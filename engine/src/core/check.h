// Small helpers to raise irnet::Error with a formatted message.
#pragma once

#include <sstream>
#include <string>
#include <utility>

#include "irnet/error.h"

namespace irnet {

template <typename... Parts>
std::string str_cat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(ErrorKind kind, Parts&&... parts) {
  throw Error(kind, str_cat(std::forward<Parts>(parts)...));
}

// IRNET_CHECK_ARG(cond, message parts...): invalid-argument error if !cond.
#define IRNET_CHECK_ARG(cond, ...)                                  \
  do {                                                              \
    if (!(cond)) ::irnet::fail(::irnet::ErrorKind::kInvalidArgument, __VA_ARGS__); \
  } while (0)

}  // namespace irnet
