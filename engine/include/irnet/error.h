// irnet/error.h — the one exception type the engine throws.
//
// Every failure a caller can cause (a corrupt model file, a bad shape, an
// invalid layer parameter) is reported as an irnet::Error with a message that
// names what was wrong and where (file offset, tensor, node). Nothing in the
// engine aborts or reads out of bounds on bad input.
#pragma once

#include <stdexcept>
#include <string>

namespace irnet {

enum class ErrorKind {
  kInvalidArgument,  // bad shape, dtype or parameter passed through the API
  kModelFormat,      // the .irb file is corrupt, truncated or unsupported
  kIo,               // the file could not be opened or read
  kInternal,         // an invariant broke: a bug in irnet, please report it
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace irnet
