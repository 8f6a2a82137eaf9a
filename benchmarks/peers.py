"""The engines a user would pick instead, each wrapped as `prepare(...) -> run()`.

A peer that is not installed or cannot build its model raises PeerUnavailable
with the reason; the harness reports it as a skipped row, never a crash.
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np


class PeerUnavailable(Exception):
    """The peer cannot run here; str(e) says why."""


def irnet(irb_path: str, x: np.ndarray, threads: int) -> Callable[[], object]:
    import irnet_infer

    model = irnet_infer.Model(irb_path, threads=threads)
    return lambda: model.run(x)


def onnxruntime(onnx_path: str, x: np.ndarray, threads: int) -> Callable[[], object]:
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise PeerUnavailable(f"onnxruntime not installed ({e}); pip install .[bench]") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda: session.run(None, {name: x})


def ncnn_fp32(torch_model, x: np.ndarray, threads: int, work_dir: str) -> Callable[[], object]:
    """ncnn float32, model converted from PyTorch with pnnx (both from PyPI)."""
    try:
        import ncnn
        import pnnx
        import torch
    except ImportError as e:
        raise PeerUnavailable(f"ncnn/pnnx not installed ({e}); pip install .[bench]") from None
    base = os.path.join(work_dir, "resnet18_fp32_ncnn")
    param, weights = base + ".ncnn.param", base + ".ncnn.bin"
    if not (os.path.exists(param) and os.path.exists(weights)):
        try:
            pnnx.export(torch_model, base + ".pt", (torch.from_numpy(x),))
        except Exception as e:  # pnnx reports conversion failures as generic errors
            raise PeerUnavailable(f"pnnx could not convert the model: {e}") from None
        if not os.path.exists(param):
            raise PeerUnavailable("pnnx ran but wrote no .ncnn.param")
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    if net.load_param(param) != 0 or net.load_model(weights) != 0:
        raise PeerUnavailable(f"ncnn could not load {param}")
    image = ncnn.Mat(np.ascontiguousarray(x[0]))

    def run():
        ex = net.create_extractor()
        ex.input("in0", image)
        ret, out = ex.extract("out0")
        if ret != 0:
            raise RuntimeError(f"ncnn extract failed ({ret})")
        return out

    run()  # fail here, not in the timing loop
    return run


NCNN_INT8_REASON = ("ncnn int8 needs ncnn2table (calibration) and ncnn2int8, which the ncnn and "
                    "pnnx wheels do not ship; the paper's 8/8 row is shown from the paper only")
