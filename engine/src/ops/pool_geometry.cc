#include "ops/pool_geometry.h"

#include "core/check.h"
#include "ops/op_util.h"

namespace irnet {

namespace {

void finish_axis(const NodeView& node, WindowAxis& a, bool ceil_mode, const char* axis_name) {
  const std::int64_t extent = a.dilation * (a.kernel - 1) + 1;
  if (a.pad_begin >= extent || a.pad_end >= extent)
    node.fail(str_cat("pads on the ", axis_name, " axis (", a.pad_begin, ", ", a.pad_end,
                      ") must be smaller than the window extent ", extent));
  const std::int64_t span = a.in + a.pad_begin + a.pad_end - extent;
  if (span < 0)
    node.fail(str_cat("window extent ", extent, " is larger than the padded ", axis_name, " ",
                      a.in + a.pad_begin + a.pad_end));
  a.out = (ceil_mode ? (span + a.stride - 1) / a.stride : span / a.stride) + 1;
  if (ceil_mode && (a.out - 1) * a.stride >= a.in + a.pad_begin) --a.out;
}

}  // namespace

PoolGeometry read_pool_geometry(const NodeView& node, const Shape& x, bool with_dilations) {
  if (!node.has_attr("kernel")) node.fail("attribute 'kernel' [kh, kw] is required");
  const std::vector<std::int64_t> kernel = read_ints(node, "kernel", {}, 2, 1);
  const std::vector<std::int64_t> strides = read_ints(node, "strides", {1, 1}, 2, 1);
  const std::vector<std::int64_t> pads = read_ints(node, "pads", {0, 0, 0, 0}, 4, 0);
  std::vector<std::int64_t> dilations = {1, 1};
  if (with_dilations)
    dilations = read_ints(node, "dilations", {1, 1}, 2, 1);
  else if (node.has_attr("dilations"))
    node.fail("attribute 'dilations' is not supported by this op");
  const std::int64_t ceil_mode = node.int_attr("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1)
    node.fail(str_cat("attribute 'ceil_mode' must be 0 or 1, got ", ceil_mode));
  for (std::int64_t v : kernel) checked_int(node, v, "kernel");
  for (std::int64_t v : strides) checked_int(node, v, "stride");
  for (std::int64_t v : dilations) checked_int(node, v, "dilation");
  PoolGeometry g;
  g.h = {x[1], kernel[0], strides[0], dilations[0], pads[0], pads[2]};
  g.w = {x[2], kernel[1], strides[1], dilations[1], pads[1], pads[3]};
  finish_axis(node, g.h, ceil_mode == 1, "height");
  finish_axis(node, g.w, ceil_mode == 1, "width");
  return g;
}

}  // namespace irnet
