// Float 2-D convolution (NHWC activations, weights [out_c][kh][kw][in_c/groups]),
// optional bias, fused clamp activation.
//
//   y[n,oh,ow,o] = clamp(sum_{i,j,c} x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, g*Cg + c]
//                                   * w[o,i,j,c]  + bias[o],  lo, hi)
// with g = o / (out_c/groups), Cg = in_c/groups, taps outside the input skipped
// (zero padding), the sum in (i, j, c) order starting from 0.
//
// Direct path (FloatConv2d, when the build and CPU have a kernel for it: 3- and
// 7-wide kernels with column stride 2, groups 1, no dilation, e.g. the ResNet and
// ReActNet stems; planes within kScratchBudget): the input rows of a band of output rows are split
// into column-phase planes and a direct kernel reads its taps from them
// (fconv/phase_conv.h). No im2col.
//
// im2col path (FloatConv2d, every other conv): per group, an sgemm with
// M = N*out_h*out_w output pixels, K = kh*kw*Cg, N = out_c/groups. The weights rows are exactly the
// packed-B source (one row of K values per output channel), packed into panels
// at construction. The activations are im2col'd straight into packed A
// micro-panels (padding taps become zeros), a block of a few micro-panels
// (<= kBlockBytes) at a time; each B panel then sweeps the whole block while
// it stays in L1. The scratch is one block per worker slot.
//
// Threads: the output pixels are split into at most kMaxSlots contiguous
// bands of whole micro-panels, and when that gives fewer than kMinSlots bands
// (a batch-1 Gemm has one) the output channels too, into bands of whole B
// panels; a slot is one (pixel band, channel band), with its own scratch slice
// and its own outputs. Every output value is computed by the same micro-kernel
// over the same k order whatever the slot, so results do not depend on the
// number of threads or on how slots are distributed.
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

#include "common/conv_geometry.h"
#include "fconv/phase_conv.h"
#include "fconv/sgemm.h"

namespace irnet {

// The fused activation as a clamp: none = (-inf, +inf), relu = (0, +inf), clip = (lo, hi).
struct FloatClamp {
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
};

// The plain reference: seven nested loops, bounds checks for the padding.
// bias may be nullptr.
void conv2d_f32_ref(const Conv2dGeometry& g, const float* x, const float* w, const float* bias,
                    FloatClamp clamp, float* y);

class FloatConv2d {
 public:
  // Slots: at most kMaxSlots, and no more than fit kScratchBudget bytes of
  // scratch (but at least kMinSlots, for a few threads, if the rows allow).
  static constexpr std::size_t kMaxSlots = 64;
  static constexpr std::size_t kMinSlots = 8;
  static constexpr std::size_t kScratchBudget = std::size_t{8} << 20;
  // A slot packs up to kMaxBlockPanels A micro-panels (within kBlockBytes) and
  // then runs each B panel over all of them: the B panel stays in L1.
  static constexpr std::size_t kBlockBytes = 32 * 1024;
  static constexpr std::size_t kMaxBlockPanels = 16;

  // Validates the geometry and packs weights/bias (both copied; bias may be
  // nullptr) for the direct kernel `phase` where it has one that fits the
  // geometry, else for im2col + `sgemm`.
  FloatConv2d(const Conv2dGeometry& g, const float* weights, const float* bias, FloatClamp clamp,
              const SgemmKernel& sgemm, const PhaseConvKernel& phase);

  const Conv2dGeometry& geometry() const { return g_; }
  const char* kernel_name() const { return phase_kernel_ != nullptr ? phase_kernel_->name : kernel_->name; }
  std::size_t num_slots() const { return slots_; }
  std::size_t scratch_bytes() const { return scratch_bytes_; }
  // Computes the output pixels of slots [slot_begin, slot_end). scratch has
  // scratch_bytes() bytes (16-byte aligned at least); x and y are NHWC.
  void run_slots(std::size_t slot_begin, std::size_t slot_end, const float* x, float* y,
                 void* scratch) const;

 private:
  // im2col of output pixels [row0, row0 + mr) for one group into an A micro-panel.
  void pack_a(std::size_t row0, int group, const float* x, float* a_panel) const;
  void pack_a_pointwise(std::size_t row0, int group, const float* x, float* a_panel) const;
  template <bool kContiguousK>
  void pack_a_layout(std::size_t row0, int group, const float* x, float* a_panel) const;
  void setup_im2col(const float* weights, const float* bias);

  // Direct path: can a direct kernel handle this geometry (if the variant has
  // one of its width); the bands of
  // output rows (one per slot) and their plane scratch (false: over
  // kScratchBudget, use im2col); the packed weights; splitting the padded
  // input rows that output rows [oh0, oh1) of one image read into column-phase
  // planes; running the slots.
  static bool phase_fits(const Conv2dGeometry& g);
  bool plan_phase_bands(std::size_t tile_pixels);
  void pack_phase_weights(const float* weights, const float* bias);
  void pack_phase_planes(const float* image, int oh0, int oh1, float* planes) const;
  void run_phase_slots(std::size_t slot_begin, std::size_t slot_end, const float* x, float* y,
                       void* scratch) const;

  Conv2dGeometry g_;
  const SgemmKernel* kernel_;
  const PhaseConvKernel* phase_ = nullptr;               // non-null: the direct path
  const PhaseConvWidthKernel* phase_kernel_ = nullptr;  // its kernel of this width
  FloatClamp clamp_;
  int out_h_ = 0, out_w_ = 0;
  std::size_t rows_ = 0;              // N * out_h * out_w
  std::size_t k_ = 0;                 // kh * kw * in_c/groups
  std::size_t kp_ = 0;                // k_ rounded up to the kernel's k_align
  std::size_t panels_per_group_ = 0;  // ceil((out_c/groups) / nr)
  std::size_t row_panels_ = 0;        // ceil(rows_ / mr)
  std::size_t slots_ = 0;           // im2col path: row_bands_ * col_bands_
  std::size_t row_bands_ = 0, col_bands_ = 1;
  bool pointwise_ = false;  // 1x1 kernel, no padding: pack_a_pointwise
  std::size_t panel_bytes_ = 0;   // one A micro-panel, 64-byte rounded
  std::size_t block_panels_ = 0;  // A micro-panels packed together (see kBlockBytes)
  std::size_t slot_bytes_ = 0;    // block_panels_ * panel_bytes_
  std::size_t scratch_bytes_ = 0;  // slots_ * slot_bytes_
  // Direct path: one band = band_rows_ output rows of one image at most.
  std::size_t plane_w_ = 0;    // floats per phase plane
  std::size_t band_rows_ = 0;  // output rows per slot
  // im2col path: groups * panels_per_group_ panels of kp_*nr (bias: of nr);
  // direct path: ceil(out_c/4) tiles of kernel_h*in_c*kernel_w*4 (bias: of 4).
  std::vector<float> packed_w_;
  std::vector<float> packed_bias_;
};

}  // namespace irnet
