"""Writes the fuzzers' seed corpus (tests/fuzz/corpus/): tiny .irb models that
together use every op the engine implements, with non-trivial attributes, and
a tiny ONNX model for the converter fuzz loop. Deterministic: re-running
rewrites the same bytes. (corpus/irb/regress_*.irb are not generated here:
they are the fuzzer's reproducers of fixed bugs.)

    python tests/fuzz/make_seeds.py"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from irnet_infer.irb import IrbWriter, pack_bits

HERE = os.path.dirname(os.path.abspath(__file__))


def nhwc(w):
    return np.ascontiguousarray(np.transpose(w, (0, 2, 3, 1)))


def float_ops_model(path):
    """f32 NHWC [1,5,6,3]: Conv2d (depthwise, dilation 2, relu) -> MaxPool -> AveragePool
    -> Relu, Concat of both -> Add (per-channel) -> PRelu -> Clip -> Transpose -> Reshape
    -> Softmax."""
    rng = np.random.default_rng(1)
    w = IrbWriter()
    f = "f32"
    x = w.add_tensor("x", f, [1, 5, 6, 3], layout="nhwc")
    dw = w.add_constant("dw.w", f, [3, 3, 3, 1], nhwc(rng.standard_normal((3, 1, 3, 3)).astype(np.float32)))
    h = w.add_tensor("dw", f, [1, 5, 6, 3], layout="nhwc")
    w.add_node("Conv2d", "dw", [x, dw], [h], {"kernel": [3, 3], "dilations": [2, 2], "pads": [2, 2, 2, 2],
                                              "groups": 3, "act": "relu"})
    mp = w.add_tensor("mp", f, [1, 4, 5, 3], layout="nhwc")
    w.add_node("MaxPool", "mp", [h], [mp], {"kernel": [2, 2], "strides": [1, 1], "pads": [0, 0, 0, 0]})
    ap = w.add_tensor("ap", f, [1, 2, 3, 3], layout="nhwc")
    w.add_node("AveragePool", "ap", [mp], [ap], {"kernel": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]})
    ap2 = w.add_tensor("ap2", f, [1, 2, 3, 3], layout="nhwc")
    w.add_node("Relu", "relu", [ap], [ap2])
    cat = w.add_tensor("cat", f, [1, 2, 3, 6], layout="nhwc")
    w.add_node("Concat", "cat", [ap, ap2], [cat], {"axis": 3})
    add = w.add_tensor("add", f, [1, 2, 3, 6], layout="nhwc")
    w.add_node("Add", "add", [cat, w.add_constant("add.b", f, [6], rng.standard_normal(6).astype(np.float32))],
               [add])
    pr = w.add_tensor("prelu", f, [1, 2, 3, 6], layout="nhwc")
    w.add_node("PRelu", "prelu", [add, w.add_constant("slope", f, [6], np.full(6, 0.25, np.float32))], [pr])
    cl = w.add_tensor("clip", f, [1, 2, 3, 6], layout="nhwc")
    w.add_node("Clip", "clip", [pr], [cl], {"clip": [-1.0, 1.0]})
    tr = w.add_tensor("tr", f, [1, 6, 2, 3])
    w.add_node("Transpose", "tr", [cl], [tr], {"perm": [0, 3, 1, 2]})
    flat = w.add_tensor("flat", f, [1, 36])
    w.add_node("Reshape", "flat", [tr], [flat], {"shape": [1, 36]})
    sm = w.add_tensor("softmax", f, [1, 36])
    w.add_node("Softmax", "softmax", [flat], [sm], {"axis": -1})
    w.set_io([x], [sm])
    w.save(path)


def binary_ops_model(path):
    """SignPack -> BinaryConv2d (65 channels, stride 2, dilation 2, asymmetric pads, bits out)
    -> BinaryConv2d 1x1 (no epilogue constants, float out) -> GlobalAveragePool -> Reshape
    -> SignPack -> BinaryGemm (clip)."""
    rng = np.random.default_rng(2)
    w = IrbWriter()
    f = "f32"
    c, co = 65, 16
    x = w.add_tensor("x", f, [1, 7, 6, c], layout="nhwc")
    xb = w.add_tensor("xb", "bits", [1, 7, 6, c], layout="nhwc")
    w.add_node("SignPack", "s0", [x], [xb])
    k1 = w.add_constant("c1.w", "bits", [co, 3, 3, c], pack_bits(nhwc(rng.standard_normal((co, c, 3, 3)))))
    # out H = (7 + 1 + 2 - 5) // 2 + 1 = 3, W = (6 + 0 + 3 - 5) // 2 + 1 = 3
    h1 = w.add_tensor("c1", "bits", [1, 3, 3, co], layout="nhwc")
    w.add_node("BinaryConv2d", "c1", [xb, k1, w.add_constant("c1.shift", "i32", [co], np.arange(co, dtype=np.int32) % 3),
                                      w.add_constant("c1.scale", f, [co], rng.uniform(-1, 1, co).astype(np.float32)),
                                      w.add_constant("c1.bias", f, [co], rng.standard_normal(co).astype(np.float32))],
               [h1], {"kernel": [3, 3], "strides": [2, 2], "dilations": [2, 2], "pads": [1, 0, 2, 3],
                      "mode": "bits"})
    k2 = w.add_constant("c2.w", "bits", [co, 1, 1, co], pack_bits(nhwc(rng.standard_normal((co, co, 1, 1)))))
    h2 = w.add_tensor("c2", f, [1, 3, 3, co], layout="nhwc")
    w.add_node("BinaryConv2d", "c2", [h1, k2], [h2], {"kernel": [1, 1], "mode": "float"})
    g = w.add_tensor("gap", f, [1, 1, 1, co], layout="nhwc")
    w.add_node("GlobalAveragePool", "gap", [h2], [g])
    flat = w.add_tensor("flat", f, [1, co])
    w.add_node("Reshape", "flat", [g], [flat], {"shape": [1, co]})
    fb = w.add_tensor("flat.bits", "bits", [1, co])
    w.add_node("SignPack", "s1", [flat], [fb])
    y = w.add_tensor("y", f, [1, 5])
    w.add_node("BinaryGemm", "fc", [fb, w.add_constant("fc.w", "bits", [5, co], pack_bits(rng.standard_normal((5, co))))],
               [y], {"mode": "float", "clip": [-3.0, 3.0]})
    w.set_io([x], [y])
    w.save(path)


def onnx_seed(path):
    """x -> Sign -> Pad -> Conv(+-alpha weights) -> BatchNormalization -> Relu -> MaxPool
    -> GlobalAveragePool -> Flatten -> Gemm -> y: a tiny binary network the converter accepts."""
    rng = np.random.default_rng(3)
    cin, cout = 3, 4
    inits = {
        "w": (np.where(rng.standard_normal((cout, cin, 3, 3)) < 0, -1.0, 1.0) * 0.5).astype(np.float32),
        "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
        "bn.s": rng.uniform(0.5, 1.5, cout).astype(np.float32), "bn.b": np.zeros(cout, np.float32),
        "bn.m": np.zeros(cout, np.float32), "bn.v": np.ones(cout, np.float32),
        "fc.w": rng.standard_normal((2, cout)).astype(np.float32), "fc.b": np.zeros(2, np.float32),
    }
    nodes = [
        helper.make_node("Sign", ["x"], ["s"], name="sign"),
        helper.make_node("Pad", ["s", "pads"], ["p"], name="pad"),
        helper.make_node("Conv", ["p", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c", "bn.s", "bn.b", "bn.m", "bn.v"], ["bn"], name="bn"),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["mp"], name="mp", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["mp"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["fl"], name="flatten"),
        helper.make_node("Gemm", ["fl", "fc.w", "fc.b"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "seed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def main():
    irb_dir = os.path.join(HERE, "corpus", "irb")
    onnx_dir = os.path.join(HERE, "corpus", "onnx")
    os.makedirs(irb_dir, exist_ok=True)
    os.makedirs(onnx_dir, exist_ok=True)
    float_ops_model(os.path.join(irb_dir, "float_ops.irb"))
    binary_ops_model(os.path.join(irb_dir, "binary_ops.irb"))
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    from test_model import build_resnet_like, make_params
    build_resnet_like(os.path.join(irb_dir, "resnet_like.irb"), make_params(), batch=1)
    onnx_seed(os.path.join(onnx_dir, "binary_net.onnx"))


if __name__ == "__main__":
    main()
