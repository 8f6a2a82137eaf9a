// irnet_infer._engine: the pybind11 layer over the C++ API (irnet/irnet.h).
//
// Thin on purpose: the Python-side checks (dtype, rank, shape, contiguity)
// live in irnet_infer/__init__.py; this module converts types, releases the
// GIL around Model::run (which is thread-safe, see irnet/model.h) and maps
// irnet::Error to irnet_infer.ModelError (a ValueError subclass).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "format/irb_file.h"
#include "irnet/irnet.h"

namespace py = pybind11;

namespace {

py::dict tensor_info(const irnet::TensorInfo& t) {
  py::dict d;
  d["name"] = t.name;
  d["shape"] = py::tuple(py::cast(t.shape));
  d["dtype"] = t.dtype;
  return d;
}

py::list tensor_infos(const std::vector<irnet::TensorInfo>& ts) {
  py::list out;
  for (const auto& t : ts) out.append(tensor_info(t));
  return out;
}

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Runs the model on C-contiguous float32 arrays; returns the outputs and,
// if profile, the per-layer seconds.
py::tuple run_model(const irnet::Model& model, const std::vector<FloatArray>& inputs, bool profile) {
  std::vector<irnet::InputTensor> views;
  for (const FloatArray& a : inputs)
    views.push_back({a.data(), std::vector<std::int64_t>(a.shape(), a.shape() + a.ndim())});
  py::list outputs;
  std::vector<float*> out_ptrs;
  for (const auto& info : model.outputs()) {
    FloatArray y(std::vector<py::ssize_t>(info.shape.begin(), info.shape.end()));
    out_ptrs.push_back(y.mutable_data());
    outputs.append(y);
  }
  std::vector<double> layer_seconds;
  {
    py::gil_scoped_release release;
    model.run(views, out_ptrs, profile ? &layer_seconds : nullptr);
  }
  return py::make_tuple(outputs, py::cast(layer_seconds));
}

py::dict summary_dict(const irnet::ModelSummary& s) {
  py::list layers;
  for (const auto& l : s.layers) {
    py::dict d;
    d["name"] = l.name;
    d["op"] = l.op;
    d["kernel"] = l.kernel;
    d["output_shape"] = py::tuple(py::cast(l.output_shape));
    d["binary_macs"] = l.binary_macs;
    d["float_macs"] = l.float_macs;
    d["param_bytes"] = l.param_bytes;
    d["scratch_bytes"] = l.scratch_bytes;
    layers.append(d);
  }
  py::dict d;
  d["layers"] = layers;
  d["binary_macs"] = s.binary_macs;
  d["float_macs"] = s.float_macs;
  d["param_bytes"] = s.param_bytes;
  d["peak_activation_bytes"] = s.peak_activation_bytes;
  d["scratch_bytes"] = s.scratch_bytes;
  d["threads"] = s.threads;
  d["text"] = s.to_string();
  return d;
}

}  // namespace

PYBIND11_MODULE(_engine, m) {
  m.doc() = "irnet-infer compiled engine (use the irnet_infer package API)";
  m.attr("__version__") = IRNET_VERSION_STRING;
  // The converter refuses what the loader would (irnet_infer/irb.py mirrors it for engine-less use).
  m.attr("MAX_ACTIVATION_BYTES") = py::int_(irnet::kIrbMaxActivationBytes);
  py::register_exception<irnet::Error>(m, "ModelError", PyExc_ValueError);

  py::class_<irnet::Model>(m, "Model")
      .def(py::init([](const std::string& path, int threads) {
             py::gil_scoped_release release;  // loading may take a while
             return new irnet::Model(irnet::Model::load(path, threads));
           }),
           py::arg("path"), py::arg("threads") = 1)
      .def_property_readonly("inputs", [](const irnet::Model& mo) { return tensor_infos(mo.inputs()); })
      .def_property_readonly("outputs", [](const irnet::Model& mo) { return tensor_infos(mo.outputs()); })
      .def_property_readonly("threads", &irnet::Model::threads)
      .def_property_readonly("metadata",
                             [](const irnet::Model& mo) {
                               py::dict d;
                               for (const auto& kv : mo.metadata()) d[py::str(kv.first)] = kv.second;
                               return d;
                             })
      .def("run", &run_model, py::arg("inputs"), py::arg("profile") = false)
      .def("summary", [](const irnet::Model& mo) { return summary_dict(mo.summary()); });

  m.def(
      "plan_model",
      [](const std::string& path) {
        irnet::ModelSummary s;
        {
          py::gil_scoped_release release;
          s = irnet::plan_model(path);
        }
        return summary_dict(s);
      },
      py::arg("path"));
  m.def("kernel_families", &irnet::kernel_families);
  m.def("kernel_variants", [](const std::string& family) {
    py::list out;
    for (const auto& v : irnet::kernel_variants(family)) {
      py::dict d;
      d["name"] = v.name;
      d["supported"] = v.supported;
      d["selected"] = v.selected;
      out.append(d);
    }
    return out;
  });
  m.def("selected_kernel", &irnet::selected_kernel);
  m.def("force_kernel", &irnet::force_kernel);
  m.def("cpu_description", &irnet::cpu_description);
}
