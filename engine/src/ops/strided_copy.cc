#include "ops/strided_copy.h"

#include <cstring>

#include "core/checked.h"

namespace irnet {

std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& dims) {
  std::vector<std::int64_t> strides(dims.size(), 1);
  for (std::size_t k = dims.size(); k-- > 1;)
    strides[k - 1] = static_cast<std::int64_t>(checked_mul("tensor strides", strides[k], dims[k]));
  return strides;
}

namespace {

template <typename T>
void copy_axis(const T* in, std::int64_t in_off, const StridedView& iv, T* out, std::int64_t out_off,
               const StridedView& ov, const std::vector<std::int64_t>& dims, std::size_t axis) {
  const std::int64_t n = dims[axis], is = iv.strides[axis], os = ov.strides[axis];
  if (axis + 1 == dims.size()) {
    if (is == 1 && os == 1) {
      std::memcpy(out + out_off, in + in_off, static_cast<std::size_t>(n) * sizeof(T));
      return;
    }
    for (std::int64_t i = 0; i < n; ++i) out[out_off + i * os] = in[in_off + i * is];
    return;
  }
  for (std::int64_t i = 0; i < n; ++i)
    copy_axis(in, in_off + i * is, iv, out, out_off + i * os, ov, dims, axis + 1);
}

template <typename T>
void copy_typed(const void* in, const StridedView& iv, void* out, const StridedView& ov,
                const std::vector<std::int64_t>& dims) {
  if (dims.empty()) {  // a scalar
    static_cast<T*>(out)[ov.base] = static_cast<const T*>(in)[iv.base];
    return;
  }
  copy_axis(static_cast<const T*>(in), iv.base, iv, static_cast<T*>(out), ov.base, ov, dims, 0);
}

}  // namespace

void strided_copy(const void* in, const StridedView& in_view, void* out, const StridedView& out_view,
                  const std::vector<std::int64_t>& dims, std::size_t elem_size) {
  if (elem_size == 4)
    copy_typed<std::uint32_t>(in, in_view, out, out_view, dims);
  else
    copy_typed<std::uint8_t>(in, in_view, out, out_view, dims);
}

namespace {

class ViewCopyOp final : public Op {
 public:
  ViewCopyOp(DType dtype, Shape out_shape, StridedView in_view, std::size_t elem_size)
      : dtype_(dtype), out_shape_(std::move(out_shape)), in_view_(std::move(in_view)), elem_size_(elem_size) {}
  std::vector<TensorDesc> outputs() const override { return {{dtype_, out_shape_, nullptr}}; }
  void run(const RunContext& ctx) const override {
    strided_copy(ctx.inputs[0], in_view_, ctx.outputs[0], {0, contiguous_strides(out_shape_)}, out_shape_,
                 elem_size_);
  }

 private:
  DType dtype_;
  Shape out_shape_;
  StridedView in_view_;
  std::size_t elem_size_;
};

}  // namespace

std::unique_ptr<Op> make_view_copy_op(DType dtype, Shape out_shape, StridedView in_view, std::size_t elem_size) {
  return std::make_unique<ViewCopyOp>(dtype, std::move(out_shape), std::move(in_view), elem_size);
}

}  // namespace irnet
