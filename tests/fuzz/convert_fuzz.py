"""Mutation fuzzing of irnet-convert (no atheris needed: a seeded, reproducible loop).

Each iteration takes a seed ONNX model (tests/fuzz/corpus/onnx/*.onnx, plus any
given with --seed-model), applies 1-3 random mutations -- structural ones on the
protobuf (op types, attributes, input names, node order, initializer dims and
bytes, graph input shapes, opset) or raw ones on the serialized bytes (flips,
truncation, splices) -- and converts it in-process with irnet_infer.convert.convert.

The contract (docs/errors.md, docs/converter.md): a conversion either succeeds
or raises ConvertError and leaves no output file. Any other exception or a
leftover output/temporary file is a failure: the mutated model is saved under
--crash-dir and the exit status is 1. A written file is then loaded and run by
the engine, which must not crash; a ModelError there (the converter accepted a
malformed model the engine then refuses, with a clear message) is counted and
its distinct messages are listed, as findings for the converter, not failures.

    python tests/fuzz/convert_fuzz.py --seconds 30 [--seed 1] [--crash-dir DIR]
"""
from __future__ import annotations

import argparse
import glob
import os
import random
import re
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np
import onnx

import irnet_infer
from irnet_infer.convert import ConvertError, convert

HERE = os.path.dirname(os.path.abspath(__file__))
OP_TYPES = ["Conv", "Gemm", "MatMul", "Sign", "Relu", "Add", "Mul", "Pad", "MaxPool", "AveragePool",
            "GlobalAveragePool", "BatchNormalization", "Flatten", "Reshape", "Concat", "Softmax",
            "Identity", "Clip", "PRelu", "Transpose", "Slice", "ReduceMean", "Swish", ""]
INTERESTING_INTS = [0, 1, -1, 2, 3, 7, 64, 65, -2**31, 2**31 - 1, 2**40, -2**63]
MAX_RUN_ELEMENTS = 1 << 20  # run a converted model only if its input is this small


def _mutate_node(model, rng):
    nodes = model.graph.node
    if not nodes:
        return
    n = nodes[rng.randrange(len(nodes))]
    choice = rng.randrange(7)
    if choice == 0:
        n.op_type = rng.choice(OP_TYPES)
    elif choice == 1 and n.attribute:
        a = n.attribute[rng.randrange(len(n.attribute))]
        if a.ints:
            a.ints[rng.randrange(len(a.ints))] = rng.choice(INTERESTING_INTS)
        elif a.type == onnx.AttributeProto.INT:
            a.i = rng.choice(INTERESTING_INTS)
        elif a.type == onnx.AttributeProto.FLOAT:
            a.f = rng.choice([0.0, -1.0, float("nan"), float("inf"), 1e30])
    elif choice == 2 and n.attribute:
        del n.attribute[rng.randrange(len(n.attribute))]
    elif choice == 3 and n.input:
        i = rng.randrange(len(n.input))
        names = [o for m in nodes for o in m.output] + [t.name for t in model.graph.initializer] + ["", "nowhere"]
        n.input[i] = rng.choice(names)
    elif choice == 4 and n.input:
        del n.input[rng.randrange(len(n.input))]
    elif choice == 5:  # reorder: may create use-before-definition
        i, j = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        a, b = onnx.NodeProto(), onnx.NodeProto()
        a.CopyFrom(nodes[i])
        b.CopyFrom(nodes[j])
        nodes[i].CopyFrom(b)
        nodes[j].CopyFrom(a)
    else:  # duplicate a node: a tensor defined twice
        nodes.add().CopyFrom(n)


def _mutate_initializer(model, rng):
    inits = model.graph.initializer
    if not inits:
        return
    t = inits[rng.randrange(len(inits))]
    choice = rng.randrange(4)
    if choice == 0 and t.dims:
        t.dims[rng.randrange(len(t.dims))] = rng.choice(INTERESTING_INTS[:8])
    elif choice == 1:
        t.data_type = rng.choice([onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.INT64,
                                  onnx.TensorProto.FLOAT16, onnx.TensorProto.BOOL, onnx.TensorProto.STRING])
    elif choice == 2 and t.raw_data:
        raw = bytearray(t.raw_data)
        cut = rng.randrange(len(raw) + 1)
        t.raw_data = bytes(raw[:cut])
    elif t.raw_data:
        raw = bytearray(t.raw_data)
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)  # NaN/Inf/huge floats, odd ints
        t.raw_data = bytes(raw)


def _mutate_io(model, rng):
    vis = list(model.graph.input) + list(model.graph.output)
    if not vis:
        return
    vi = rng.choice(vis)
    dims = vi.type.tensor_type.shape.dim
    choice = rng.randrange(4)
    if choice == 0 and dims:
        dims[rng.randrange(len(dims))].dim_value = rng.choice([0, 1, 2, 5, 64, 2**31])
    elif choice == 1 and dims:
        dims[rng.randrange(len(dims))].dim_param = "batch"
    elif choice == 2 and dims:
        del dims[rng.randrange(len(dims))]
    else:
        vi.type.tensor_type.elem_type = rng.choice([onnx.TensorProto.INT64, onnx.TensorProto.DOUBLE,
                                                    onnx.TensorProto.UINT8, onnx.TensorProto.FLOAT])


def _mutate_opset(model, rng):
    if model.opset_import:
        model.opset_import[0].version = rng.choice([1, 6, 9, 10, 11, 13, 17, 21, 99])


def _mutate_bytes(data: bytes, rng) -> bytes:
    b = bytearray(data)
    choice = rng.randrange(3)
    if choice == 0 and b:
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif choice == 1:
        b = b[:rng.randrange(len(b) + 1)]
    elif b:
        i, j = sorted(rng.randrange(len(b)) for _ in range(2))
        b[i:i] = b[i:j]
    return bytes(b)


STRUCTURAL = [_mutate_node, _mutate_node, _mutate_node, _mutate_initializer, _mutate_io, _mutate_opset]


def mutate(seed_bytes: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.2:
        return _mutate_bytes(seed_bytes, rng)
    model = onnx.load_from_string(seed_bytes)
    for _ in range(rng.randint(1, 3)):
        rng.choice(STRUCTURAL)(model, rng)
    return model.SerializeToString()


def check_one(data: bytes, workdir: str) -> tuple[str | None, str | None]:
    """Converts one candidate: (what broke the contract or None, the engine's refusal or None)."""
    src = os.path.join(workdir, "m.onnx")
    out = os.path.join(workdir, "m.irb")
    with open(src, "wb") as f:
        f.write(data)
    if os.path.exists(out):
        os.remove(out)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            convert(src, out)
    except ConvertError:
        leftovers = sorted(set(os.listdir(workdir)) - {"m.onnx"})
        return (f"ConvertError but files left behind: {leftovers}" if leftovers else None), None
    except Exception:
        return "unexpected exception from convert():\n" + traceback.format_exc(), None
    try:
        model = irnet_infer.Model(out)
        inputs = [np.zeros(i["shape"], np.float32) for i in model.inputs]
        if sum(x.size for x in inputs) <= MAX_RUN_ELEMENTS:
            model.run(*inputs)
    except irnet_infer.ModelError as e:
        return None, str(e).replace(out, "<converted>")
    except Exception:
        return "the engine failed on a converted file:\n" + traceback.format_exc(), None
    return None, None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--iterations", type=int, default=0, help="stop after this many (0: time only)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seed-model", action="append", default=[], help="extra seed ONNX files")
    ap.add_argument("--crash-dir", default="build/harden-fuzz/convert-crashes")
    args = ap.parse_args(argv)
    seeds = [open(p, "rb").read()
             for p in sorted(glob.glob(os.path.join(HERE, "corpus", "onnx", "*.onnx"))) + args.seed_model]
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.seconds
    iterations = failures = converted = 0
    refusals = {}  # engine message with numbers masked -> count
    with tempfile.TemporaryDirectory() as workdir:
        while time.monotonic() < deadline and (args.iterations == 0 or iterations < args.iterations):
            data = mutate(rng.choice(seeds), rng)
            problem, refused = check_one(data, workdir)
            if refused:
                key = re.sub(r"\d+", "N", refused)
                refusals[key] = refusals.get(key, 0) + 1
            iterations += 1
            converted += os.path.exists(os.path.join(workdir, "m.irb"))
            if problem:
                failures += 1
                os.makedirs(args.crash_dir, exist_ok=True)
                path = os.path.join(args.crash_dir, f"crash-{args.seed}-{iterations}.onnx")
                with open(path, "wb") as f:
                    f.write(data)
                print(f"FAILURE (saved {path}): {problem}", file=sys.stderr)
    print(f"convert_fuzz: {iterations} mutated models, {converted} converted, "
          f"{iterations - converted} refused with ConvertError, {failures} failures")
    if refusals:
        print(f"converted files the engine refused ({sum(refusals.values())}; converter findings):")
        for msg, count in sorted(refusals.items(), key=lambda kv: -kv[1]):
            print(f"  {count:5d}  {msg}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
