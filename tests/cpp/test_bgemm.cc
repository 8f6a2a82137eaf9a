// Every bgemm variant, its weights packed by its own packing function, against
// bgemm_ref on random shapes: tile edges (M, N not multiples of any tile), K
// not a multiple of any vector width, long accumulations (K up to ~300 words),
// leading dimensions larger than K, and adversarial all-ones data (the largest
// possible counts). Also the kernel registry: listing, forcing, errors.
#include <sys/mman.h>
#include <unistd.h>

#include <utility>

#include "bgemm/bgemm.h"
#include "bit_testing.h"
#include "check.h"
#include "cpu/kernel_config.h"

using irnet::BitWord;
using namespace irnet_test;

namespace {

struct Shape {
  std::size_t M, N, K, lda, ldb, ldc;
};

using Variants = std::vector<const irnet::BgemmKernel*>;

Variants supported_bgemm() { return irnet::supported_kernels<irnet::BgemmKernel>(); }

void check_variant_on(const irnet::BgemmKernel& variant, const Shape& c, const std::vector<BitWord>& A,
                      const std::vector<BitWord>& B) {
  std::vector<std::int32_t> expected(c.M * c.ldc, -7), got(c.M * c.ldc, -7);
  irnet::bgemm_ref(c.M, c.N, c.K, A.data(), c.lda, B.data(), c.ldb, expected.data(), c.ldc);
  irnet::bgemm_packing(variant, c.M, c.N, c.K, A.data(), c.lda, B.data(), c.ldb, got.data(), c.ldc);
  if (got != expected) {
    CHECK_EQ(std::string(variant.name) + " M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) +
                 " K=" + std::to_string(c.K),
             std::string("matches bgemm_ref"));
  }
}

// `words` BitWords that end exactly where an inaccessible page begins: a kernel
// reading past the last word of the last row faults.
class GuardedWords {
 public:
  explicit GuardedWords(std::size_t words) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = words * sizeof(BitWord);
    const std::size_t data_pages = (bytes + page - 1) / page;
    size_ = (data_pages + 1) * page;
    void* map = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    base_ = static_cast<char*>(map);
    CHECK_EQ(mprotect(base_ + data_pages * page, page, PROT_NONE), 0);
    data_ = reinterpret_cast<BitWord*>(base_ + data_pages * page - bytes);
  }
  ~GuardedWords() { munmap(base_, size_); }
  GuardedWords(const GuardedWords&) = delete;
  GuardedWords& operator=(const GuardedWords&) = delete;
  BitWord* data() { return data_; }

 private:
  char* base_ = nullptr;
  std::size_t size_ = 0;
  BitWord* data_ = nullptr;
};

std::vector<BitWord> random_words(Rng& rng, std::size_t n) {
  std::vector<BitWord> v(n);
  for (BitWord& w : v) w = rng();
  return v;
}

// Words with random low 32 bits and zeros above: the packed pixels of <= 32 channels.
std::vector<BitWord> random_half_words(Rng& rng, std::size_t n) {
  std::vector<BitWord> v(n);
  for (BitWord& w : v) w = rng() & 0xFFFFFFFFu;
  return v;
}

// Every supported variant on shape c against bgemm_ref, twice: on random A
// and B, and on all-ones A against all-zeros B (every count at its largest).
void check_variants_random_and_extreme(Rng& rng, const Shape& c) {
  const std::vector<BitWord> random_a = random_words(rng, c.M * c.lda);
  const std::vector<BitWord> random_b = random_words(rng, c.N * c.ldb);
  const std::vector<BitWord> ones(c.M * c.lda, ~BitWord{0}), zeros(c.N * c.ldb, 0);
  for (const irnet::BgemmKernel* v : supported_bgemm()) {
    check_variant_on(*v, c, random_a, random_b);
    check_variant_on(*v, c, ones, zeros);
  }
}

}  // namespace

TEST(reference_counts_differing_bits) {
  const BitWord A[2] = {0b1011, ~BitWord{0}};
  const BitWord B[2] = {0b0001, 0};
  std::int32_t C = -1;
  irnet::bgemm_ref(1, 1, 2, A, 2, B, 2, &C, 1);
  CHECK_EQ(C, 2 + 64);
}

TEST(all_variants_match_reference_random_shapes) {
  Rng rng(2);
  const Variants variants = supported_bgemm();
  CHECK(variants.size() >= 2);
  for (int trial = 0; trial < 60; ++trial) {
    Shape c;
    c.M = uniform_int(rng, 0, 19);
    c.N = uniform_int(rng, 0, 19);
    c.K = trial < 10 ? uniform_int(rng, 250, 300) : uniform_int(rng, 0, 40);
    c.lda = c.K + uniform_int(rng, 0, 3);
    c.ldb = c.K + uniform_int(rng, 0, 3);
    c.ldc = c.N + uniform_int(rng, 0, 2);
    const std::vector<BitWord> A = random_words(rng, c.M * c.lda + 1);
    const std::vector<BitWord> B = random_words(rng, c.N * c.ldb + 1);
    for (const irnet::BgemmKernel* v : variants) check_variant_on(*v, c, A, B);
  }
}

TEST(all_variants_match_reference_on_layer_sizes) {
  // K of the ResNet-18 3x3 layers (9, 18, 36, 72 words: 1-3 byte accumulation
  // runs), N of 64-520 channels, M of full and partial row tiles, padded
  // strides. M = 229 spans 2-3 row groups of bgemm_4x8_avx2's A nibble buffer
  // (224 rows at K = 9, 84 at K = 72) with a partial last group.
  Rng rng(4);
  for (const std::size_t K : {9, 18, 36, 72})
    for (const std::size_t N : {64, 67, 520})
      for (const std::size_t M : {1, 3, 37, 229}) {
        if (M * N > 37 * 520) continue;  // keeps the qemu runs short
        const Shape c{M, N, K, K + 1, K + 2, N + 3};
        const std::vector<BitWord> A = random_words(rng, M * c.lda);
        const std::vector<BitWord> B = random_words(rng, N * c.ldb);
        for (const irnet::BgemmKernel* v : supported_bgemm()) check_variant_on(*v, c, A, B);
      }
}

TEST(all_variants_exact_on_every_small_shape) {
  // Every M, N in 1..9 and K in 1..17: all tile-edge combinations of 2x4, 4x4, 8x4 tiles.
  Rng rng(3);
  for (std::size_t M = 1; M <= 9; ++M)
    for (std::size_t N = 1; N <= 9; ++N)
      for (std::size_t K = 1; K <= 17; K += 1 + (M + N) % 3) {
        const Shape c{M, N, K, K, K, N};
        const std::vector<BitWord> A = random_words(rng, M * K);
        const std::vector<BitWord> B = random_words(rng, N * K);
        for (const irnet::BgemmKernel* v : supported_bgemm()) check_variant_on(*v, c, A, B);
      }
}

TEST(all_variants_max_counts) {
  // All bits differ: every count is 64*K, the largest value (no byte/lane
  // overflow). K = 31, 32, 62, 63, 93 are the edges of the 31-word byte
  // accumulation runs of bgemm_4x8_avx2; N = 13 has a partial 8-channel panel.
  const std::size_t M = 5, N = 13;
  for (const std::size_t K : {31, 32, 62, 63, 93, 300}) {
    const std::vector<BitWord> A(M * K, ~BitWord{0}), B(N * K, 0);
    for (const irnet::BgemmKernel* v : supported_bgemm()) {
      std::vector<std::int32_t> C(M * N, 0);
      irnet::bgemm_packing(*v, M, N, K, A.data(), K, B.data(), K, C.data(), N);
      for (std::int32_t c : C)
        if (c != 64 * int(K))
          CHECK_EQ(std::string(v->name) + " K=" + std::to_string(K) + " count " + std::to_string(c), std::to_string(64 * K));
    }
  }
}

TEST(all_variants_exact_on_long_rows) {
  // K around 8188 words, where aarch64's edge tiles (u16 lanes, at most 8
  // per word) start a second chunk, and past it: all-ones data (every lane at
  // its largest count) and random data. M = N = 5: a full 4x4 tile and the
  // 1x4, 4x1, 1x1 edges.
  Rng rng(6);
  const std::size_t M = 5, N = 5;
  for (const std::size_t K : {8187, 8188, 8189, 8191, 16379, 16380})
    check_variants_random_and_extreme(rng, Shape{M, N, K, K, K + 1, N});
}

TEST(all_variants_exact_for_every_k_across_chunks) {
  // Every K in 0..125: all splits of K into the kernels' chunks (e.g. 28-word
  // chunks of 2-word steps on aarch64, with a 2-word step and an odd word left
  // over), on random data and on all-ones data (every lane at its largest
  // count); M = 9 runs two full row tiles down each column panel and an edge
  // tile, N = 9 two full panels and an edge; padded leading dimensions.
  Rng rng(4);
  for (std::size_t K = 0; K <= 125; ++K) check_variants_random_and_extreme(rng, Shape{9, 9, K, K + 1, K + 3, 11});
}

TEST(all_variants_exact_for_every_short_k) {
  // Every K in 1..20 words (the short-K panels of the NEON kernels run K <= 16,
  // with weight panels of 16, 8, 4 or 2 columns by K): random M (any row count
  // in 1..70), N with and without a partial panel (N mod 16 = 0, 2, 4, 7, 13),
  // padded leading dimensions; random data, all-ones against all-zeros (every
  // byte at its largest count) and activations with only the low 32 bits of
  // each word set (a 32-channel layer: half of each word is zero).
  Rng rng(8);
  for (std::size_t K = 1; K <= 20; ++K)
    for (const std::size_t N : {2, 4, 7, 13, 16, 20, 32, 45}) {
      const Shape c{std::size_t(uniform_int(rng, 1, 70)), N, K, K + std::size_t(uniform_int(rng, 0, 3)),
                    K + std::size_t(uniform_int(rng, 0, 2)), N + std::size_t(uniform_int(rng, 0, 3))};
      check_variants_random_and_extreme(rng, c);
      const std::vector<BitWord> half_a = random_half_words(rng, c.M * c.lda);
      const std::vector<BitWord> half_b = random_half_words(rng, c.N * c.ldb);
      for (const irnet::BgemmKernel* v : supported_bgemm()) check_variant_on(*v, c, half_a, half_b);
    }
}

TEST(half_word_runs_match_reference) {
  // run_half_words (the variants that have one): every word of A and B has its
  // bits in the low 32, K = 1 (a 1x1 conv over <= 32 channels) and, where the
  // variant leaves them to run, K = 2 and 3; random M, N with and without a
  // partial 16-column panel, padded leading dimensions; random half words and
  // all-ones low halves against zeros (every count 32).
  Rng rng(9);
  int variants_with_half_words = 0;
  for (const irnet::BgemmKernel* v : supported_bgemm()) {
    if (v->run_half_words == nullptr) continue;
    ++variants_with_half_words;
    for (const std::size_t K : {1, 1, 1, 2, 3})
      for (const std::size_t N : {1, 7, 16, 20, 45, 64}) {
        const Shape c{std::size_t(uniform_int(rng, 1, 70)), N, K, K + std::size_t(uniform_int(rng, 0, 2)),
                      K + std::size_t(uniform_int(rng, 0, 2)), N + std::size_t(uniform_int(rng, 0, 3))};
        const std::vector<BitWord> a = random_half_words(rng, c.M * c.lda), b = random_half_words(rng, c.N * c.ldb);
        const std::vector<BitWord> ones(c.M * c.lda, 0xFFFFFFFFu), zeros(c.N * c.ldb, 0);
        for (const auto& [A, B] : {std::pair{&a, &b}, std::pair{&ones, &zeros}}) {
          std::vector<std::int32_t> expected(c.M * c.ldc, -7), got(c.M * c.ldc, -7);
          irnet::bgemm_ref(c.M, c.N, c.K, A->data(), c.lda, B->data(), c.ldb, expected.data(), c.ldc);
          v->run_half_words(c.M, c.N, c.K, A->data(), c.lda, B->data(), c.ldb, got.data(), c.ldc);
          if (got != expected)
            CHECK_EQ(std::string(v->name) + " run_half_words M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) +
                         " K=" + std::to_string(c.K),
                     std::string("matches bgemm_ref"));
        }
      }
  }
#if defined(__aarch64__) || defined(__ARM_NEON)
  CHECK(variants_with_half_words >= 1);  // the NEON short-K variant has one
#endif
}

TEST(all_variants_exact_over_many_full_panels) {
  // Several full 4-column panels of several full row tiles (aarch64 runs them
  // all in one assembly call, stepping A and C back and B on between panels),
  // with and without edges, for K on both of its paths (< 32 words: one
  // chunk planned once; >= 32: the chunk loop), random and all-ones data;
  // ldc > N: the padding columns must stay untouched.
  Rng rng(7);
  for (const std::size_t K : {1, 2, 3, 4, 9, 17, 18, 31, 32, 36, 57, 72})
    for (const std::size_t M : {8, 13})
      for (const std::size_t N : {16, 22}) check_variants_random_and_extreme(rng, Shape{M, N, K, K + 2, K + 1, N + 5});
}

TEST(all_variants_never_read_past_the_last_word) {
  // A and B end at an inaccessible page (lda = K, ldb = K): every K in 1..70,
  // M = 9 and N = 9 or 18 (full tiles and edges; 16-, 8-, 4- and 2-column
  // short-K panels): the kernels and their weight packing must stay inside the rows.
  Rng rng(5);
  for (std::size_t K = 1; K <= 70; ++K)
    for (const std::size_t N : {9, 18}) {
      const std::size_t M = 9;
      GuardedWords A(M * K), B(N * K);
      for (std::size_t i = 0; i < M * K; ++i) A.data()[i] = rng();
      for (std::size_t i = 0; i < N * K; ++i) B.data()[i] = rng();
      std::vector<std::int32_t> expected(M * N), got(M * N);
      irnet::bgemm_ref(M, N, K, A.data(), K, B.data(), K, expected.data(), N);
      for (const irnet::BgemmKernel* v : supported_bgemm()) {
        irnet::bgemm_packing(*v, M, N, K, A.data(), K, B.data(), K, got.data(), N);
        if (got != expected)
          CHECK_EQ(std::string(v->name) + " K=" + std::to_string(K) + " N=" + std::to_string(N),
                   std::string("matches bgemm_ref"));
      }
    }
}

TEST(registry_lists_families_and_selects_supported) {
  const std::vector<std::string> families = irnet::kernel_families();
  bool bitpack = false, bgemm = false;
  for (const std::string& f : families) {
    bitpack |= f == "bitpack";
    bgemm |= f == "bgemm";
  }
  CHECK(bitpack);
  CHECK(bgemm);
  for (const char* family : {"bitpack", "bgemm"}) {
    int selected = 0;
    for (const irnet::KernelVariantInfo& v : irnet::kernel_variants(family))
      if (v.selected) {
        ++selected;
        CHECK(v.supported);
        CHECK_EQ(v.name, irnet::selected_kernel(family));
      }
    CHECK_EQ(selected, 1);
  }
  // The automatic choice is the first supported variant.
  for (const irnet::KernelVariantInfo& v : irnet::kernel_variants("bgemm"))
    if (v.supported) {
      CHECK_EQ(irnet::selected_kernel("bgemm"), v.name);
      break;
    }
  CHECK(!irnet::cpu_description().empty());
}

TEST(registry_force_and_errors) {
  irnet::force_kernel("bgemm", "bgemm_ref");
  CHECK_EQ(irnet::selected_kernel("bgemm"), std::string("bgemm_ref"));
  irnet::force_kernel("bgemm", "auto");
  CHECK(irnet::selected_kernel("bgemm") != std::string("bgemm_ref"));
  CHECK_THROWS(irnet::force_kernel("bgemm", "bgemm_9x9_magic"), "unknown kernel 'bgemm_9x9_magic'");
  CHECK_THROWS(irnet::force_kernel("bgemm", "bgemm_9x9_magic"), "bgemm_4x4_scalar");
  CHECK_THROWS(irnet::force_kernel("nosuch", "x"), "unknown kernel family 'nosuch'");
  CHECK_THROWS(irnet::kernel_variants("nosuch"), "known: bitpack, bgemm, sgemm, bconv_epilogue, phase_conv, pool, crc32");
  for (const irnet::KernelVariantInfo& v : irnet::kernel_variants("bgemm"))
    if (!v.supported) CHECK_THROWS(irnet::force_kernel("bgemm", v.name), "not supported by this CPU");
}

int main() { return irnet_test::run_all(); }
