// core/checked.h: the checked size arithmetic every size computed from a
// model file goes through (docs/hardening.md). Results are exact up to the
// last representable value; one more overflows with a message listing the operands.
#include <cstdint>
#include <limits>
#include <string>

#include "check.h"
#include "core/checked.h"

using namespace irnet;

namespace {
constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
const std::string kBits = std::to_string(8 * sizeof(std::size_t)) + " bits";
}  // namespace

TEST(products_and_sums_are_exact_up_to_the_limit) {
  CHECK_EQ(checked_mul("p", 3, 5, std::size_t{7}), std::size_t{105});
  CHECK_EQ(checked_mul("p", kMax / 3, 3), kMax / 3 * 3);
  CHECK_EQ(checked_mul("p", kMax, 1, 0), std::size_t{0});
  CHECK_EQ(checked_add("s", kMax - 5, 2, 3), kMax);
  CHECK_EQ(checked_round_up("r", 65, 64), std::size_t{128});
  CHECK_EQ(checked_round_up("r", 128, 64), std::size_t{128});
  CHECK_EQ(checked_round_up("r", kMax - 63, 64), kMax - 63);  // kMax + 1 is a multiple of 64
  CHECK(product_at_most(8, 2, 2, 2));
  CHECK(!product_at_most(7, 2, 2, 2));
}

TEST(overflow_names_what_and_the_operands) {
  const std::size_t half = kMax / 2 + 1;
  CHECK_THROWS(checked_mul("conv scratch", half, 2), "conv scratch: " + std::to_string(half) + " * 2 overflows " + kBits);
  CHECK_THROWS(checked_mul("m", 2, half, 1), "m: 2 * " + std::to_string(half) + " * 1 overflows");
  // Wrapping to a small value (the issue-15 conv: 1.5e20 became 4 MiB) is caught too.
  const std::size_t root = std::size_t{1} << (4 * sizeof(std::size_t));  // root * root = kMax + 1
  CHECK_THROWS(checked_mul("m", root, root), "overflows");
  CHECK_THROWS(checked_add("a", kMax, 1), "a: " + std::to_string(kMax) + " + 1 overflows " + kBits);
  CHECK_THROWS(checked_round_up("r", kMax - 62, 64), "r: ");
  CHECK(!product_at_most(kMax, half, 2));
}

TEST(negative_and_unrepresentable_operands_are_refused) {
  CHECK_THROWS(checked_mul("dims", 4, -1), "dims: negative size -1");
  CHECK_THROWS(checked_add("offset", std::int64_t{-5}), "offset: negative size -5");
  const std::uint64_t wide = std::uint64_t{1} << 40;
  if (sizeof(std::size_t) < sizeof(std::uint64_t))
    CHECK_THROWS(checked_mul("wide", wide), "does not fit in size_t");
  else
    CHECK_EQ(static_cast<std::uint64_t>(checked_mul("wide", wide)), wide);
}

int main() { return irnet_test::run_all(); }
