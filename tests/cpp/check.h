// A minimal test framework for the C++ tests: no dependency, runs under qemu.
//
//   TEST(name) { CHECK(a == b); CHECK_EQ(a, b); CHECK_THROWS(expr); }
//   int main() { return irnet_test::run_all(); }
//
// Each failure prints file:line and the values; the process exits non-zero if
// any check failed. Closing line: "N passed, M failed".
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace irnet_test {

struct Case {
  const char* name;
  std::function<void()> fn;
};
inline std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}
inline int& failures() {
  static int n = 0;
  return n;
}
struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { cases().push_back({name, std::move(fn)}); }
};

inline void report(const char* file, int line, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "%s:%d: FAILED %s\n", file, line, what.c_str());
}

inline int run_all() {
  int passed = 0, failed = 0;
  for (const Case& c : cases()) {
    const int before = failures();
    try {
      c.fn();
    } catch (const std::exception& e) {
      report(__FILE__, __LINE__, std::string(c.name) + " threw: " + e.what());
    }
    if (failures() == before) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stderr, "[FAIL] %s\n", c.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace irnet_test

#define IRNET_TEST_CAT2(a, b) a##b
#define IRNET_TEST_CAT(a, b) IRNET_TEST_CAT2(a, b)
#define TEST(name)                                                              \
  static void name();                                                           \
  static ::irnet_test::Registrar IRNET_TEST_CAT(registrar_, name)(#name, name); \
  static void name()

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) ::irnet_test::report(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_EQ(a, b)                                                             \
  do {                                                                             \
    const auto& va_ = (a);                                                         \
    const auto& vb_ = (b);                                                         \
    if (!(va_ == vb_)) {                                                           \
      std::ostringstream os_;                                                      \
      os_ << "CHECK_EQ(" #a ", " #b "): " << va_ << " != " << vb_;                 \
      ::irnet_test::report(__FILE__, __LINE__, os_.str());                         \
    }                                                                              \
  } while (0)

// CHECK_THROWS(expr, substring): expr must throw irnet::Error whose message contains substring.
#define CHECK_THROWS(expr, substring)                                                   \
  do {                                                                                  \
    bool thrown_ = false;                                                               \
    try {                                                                               \
      (void)(expr);                                                                     \
    } catch (const std::exception& e_) {                                                \
      thrown_ = true;                                                                   \
      if (std::string(e_.what()).find(substring) == std::string::npos)                  \
        ::irnet_test::report(__FILE__, __LINE__,                                        \
                             std::string("message '") + e_.what() + "' lacks '" + (substring) + "'"); \
    }                                                                                   \
    if (!thrown_) ::irnet_test::report(__FILE__, __LINE__, "expected throw: " #expr);  \
  } while (0)
