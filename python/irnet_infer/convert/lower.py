"""Lowering a folded ONNX Graph to the .irb op catalog (docs/format.md).

Two passes. `plan` decides which Conv/Gemm/MatMul nodes become binary ops,
which Sign/Pad nodes disappear into them, what each binary op's epilogue
absorbs (with activation fusion: RPReLU, the next RSign's threshold, and the
doubling Concat of convs on one input, merged into one op) and in which output
mode it writes, and what each float op absorbs
(BN, bias, activation; patterns.match_float_epilogue). `run` then walks the ONNX nodes
in order and appends engine nodes to an IrbWriter; a fused chain is emitted
where its last node stood, so every input of every node in the chain
(e.g. the residual) already exists. Nothing is written to disk here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set

import numpy as np

from ..irb import MAX_ACTIVATION_BYTES, IrbWriter, pack_bits, packed_size
from . import layout
from .graph import ConvertError, Graph, Node
from .geometry import conv_attrs
from .patterns import (FLOAT_FUSING, BinaryData, BinaryWeight, Epilogue, binary_weight, clip_bounds,
                       concat_on_channels, constant_offset, match_activation, match_binary_data, match_epilogue,
                       match_float_epilogue, require, sign_zero_risk)
from .ops import HANDLERS
from .report import LayerInfo, Report


@dataclass
class Options:
    bit_shift: bool = True                          # False: --no-bit-shift
    keep_float: Set[str] = field(default_factory=set)
    allow_sign_of_zero: bool = False                # --allow-sign-of-zero
    fuse_activation: bool = True                    # False: --no-fuse-activation


@dataclass
class Value:
    """Where the engine holds one ONNX tensor."""
    onnx_shape: tuple
    f32: Optional[int] = None        # tensor id of the float version
    bits: Optional[int] = None       # tensor id of the packed-sign version
    flatten_chw: Optional[tuple] = None   # f32 is an NHWC [N,H,W,C] flattened in (h,w,c) order


@dataclass
class BinaryPlan:
    node: Node
    data: BinaryData
    weight: BinaryWeight
    epilogue: Epilogue
    mode: str = "float"
    merged: List[Node] = field(default_factory=list)   # further convs merged into this op (Concat)
    constants: Optional[tuple] = None   # (shift, scale, bias) of a merged op; else from epilogue_constants

    @property
    def nodes(self) -> List[Node]:
        """The ONNX Conv/Gemm/MatMul nodes this op computes."""
        return [self.node] + self.merged


class Lowering:
    def __init__(self, graph: Graph, options: Options) -> None:
        self.g = graph
        self.opts = options
        self.w = IrbWriter()
        self.report = Report()
        self.values: Dict[str, Value] = {}
        self.names: Set[str] = set()
        self.plans: Dict[int, BinaryPlan] = {}      # id(op node) → plan
        self.emit_at: Dict[int, BinaryPlan] = {}    # id(last fused node) → plan
        self.skipped: Set[int] = set()               # ids of nodes that emit nothing
        self.same_as: Dict[int, str] = {}            # id(node) → ONNX name its output equals
        self.float_epilogues: Dict[int, Epilogue] = {}  # id(float op) → what it absorbs
        self.float_reason: Dict[str, str] = {}       # conv/gemm name → why it stays float
        # ONNX name of x + b read only by vanishing Signs → (x, b float32 [C]): SignPack's threshold
        self.thresholds: Dict[str, tuple] = {}

    # -- tensors ------------------------------------------------------------
    def _unique(self, name: str) -> str:
        base, k = name, 1
        while name in self.names:
            name, k = f"{base}:{k}", k + 1
        self.names.add(name)
        return name

    @staticmethod
    def _check_shape(name: str, shape: Sequence[int]) -> List[int]:
        """Engine limits: every dim in [1, 2^31) and at most 2^40 elements."""
        dims = [int(d) for d in shape]
        if any(not 1 <= d < 2 ** 31 for d in dims) or np.prod(dims, dtype=object) > 2 ** 40:
            raise ConvertError(f"tensor '{name}' has shape {dims}, beyond the engine's limits "
                               "(each dim in [1, 2^31), at most 2^40 elements)")
        return dims

    def activation_tensor(self, name: str, dtype: str, onnx_shape: Sequence[int]) -> int:
        lay = "nhwc" if layout.is_spatial(len(onnx_shape)) else "plain"
        dims = self._check_shape(name, layout.engine_shape(onnx_shape))
        nbytes = packed_size(dtype, dims)
        if nbytes > MAX_ACTIVATION_BYTES:
            raise ConvertError(f"tensor '{name}' of shape {list(onnx_shape)} takes {nbytes:,} bytes, more than "
                               f"the engine's limit of {MAX_ACTIVATION_BYTES:,} bytes for one activation")
        return self.w.add_tensor(self._unique(name), dtype, dims, lay)

    def plain_tensor(self, name: str, shape: Sequence[int]) -> int:
        return self.w.add_tensor(self._unique(name), "f32", self._check_shape(name, shape), "plain")

    def constant(self, name: str, dtype: str, shape: Sequence[int], data) -> int:
        return self.w.add_constant(self._unique(name), dtype, self._check_shape(name, shape), data)

    def f32_const(self, name: str, data: np.ndarray) -> int:
        data = np.ascontiguousarray(np.asarray(data, dtype=np.float32))
        if not np.all(np.isfinite(data)):
            raise ConvertError(f"constant '{name}' has non-finite values (after folding, e.g. a "
                               "BatchNormalization with var + epsilon <= 0 or huge weights)")
        return self.constant(name, "f32", data.shape, data)

    def value(self, name: str, node: Node) -> Value:
        if name not in self.values:
            raise ConvertError(f"{node.describe()}: input '{name}' is a constant or has no engine value "
                               "(only activations are supported here)")
        return self.values[name]

    def float_epilogue(self, n: Node) -> Epilogue:
        """What float op `n` absorbs (planned in `plan`)."""
        return self.float_epilogues[id(n)]

    def f32_of(self, name: str, node: Node) -> int:
        v = self.value(name, node)
        require(v.f32 is not None, node, f"input '{name}' exists only as packed bits")
        return v.f32

    def bits_of(self, name: str, node: Node) -> int:
        """The packed signs of `name`, inserting one SignPack the first time they are needed
        (of x with threshold b when `name` is a planned x + b)."""
        if name in self.thresholds and name not in self.values:
            self.values[name] = Value(self.g.shape(name))
        v = self.value(name, node)
        if v.bits is None:
            risk = sign_zero_risk(self.g, name)
            if risk and not self.opts.allow_sign_of_zero:
                raise ConvertError(
                    f"{node.describe()} takes sign() of '{name}', and {risk}. ONNX gives sign(0) = 0, "
                    "which one bit cannot hold (the engine's binary input is -1 or +1), so the converted "
                    "model would differ from the ONNX model wherever the input is 0. Pass "
                    "--allow-sign-of-zero (convert(..., allow_sign_of_zero=True)) to convert it with "
                    "sign(0) = +1")
            if risk:
                self.report.warn(f"sign(0) = +1: {node.describe()} takes sign() of '{name}', and {risk}; "
                                 "where it is 0, ONNX multiplies by 0 and the converted model by +1, so "
                                 "outputs differ from the ONNX model (--allow-sign-of-zero)")
            inputs = [v.f32]
            if name in self.thresholds:
                x, b = self.thresholds[name]
                inputs = [self.f32_of(x, node), self.f32_const(name + ".threshold", b)]
            v.bits = self.activation_tensor(name + ":bits", "bits", v.onnx_shape)
            self.w.add_node("SignPack", name + ":signpack", inputs, [v.bits])
        return v.bits

    def new_f32(self, onnx_name: str) -> int:
        """Declares the float engine tensor that holds ONNX tensor `onnx_name`."""
        tid = self.activation_tensor(onnx_name, "f32", self.g.shape(onnx_name))
        self.values[onnx_name] = Value(self.g.shape(onnx_name), f32=tid)
        return tid

    # -- planning -------------------------------------------------------------
    def plan(self) -> None:
        g = self.g
        for n in g.nodes:
            if n.op not in HANDLERS:
                raise ConvertError(
                    f"node '{n.name}': op '{n.op}' (opset {g.opset}) is not supported. Supported ops "
                    f"(after constant folding): {', '.join(sorted(HANDLERS))}")
        for n in g.nodes:
            if n.op in ("Conv", "Gemm", "MatMul"):
                plan = self._plan_binary(n)
                if plan is not None:
                    self.plans[id(n)] = plan
        if self.opts.fuse_activation:
            self._merge_concats()
        # Sign/Pad nodes vanish when everything reading them is a binary op (or vanishes too).
        binary = {id(x) for p in self.plans.values() for x in p.nodes}
        candidates = {id(x): x for p in self.plans.values() for x in p.data.path}
        absorbed: Set[int] = set()
        changed = True
        while changed:
            changed = False
            for nid, x in candidates.items():
                if nid in absorbed or x.outputs[0] in g.outputs:
                    continue
                if all(id(u) in binary or id(u) in absorbed for u in g.users(x.outputs[0])):
                    absorbed.add(nid)
                    changed = True
        self.skipped |= absorbed
        for p in self.plans.values():
            ep = p.epilogue
            if ep.fused:
                self.skipped.update(id(x) for x in p.nodes)
                self.skipped.update(id(x) for x in ep.fused[:-1])
                self.emit_at[id(ep.fused[-1])] = p
            else:
                self.emit_at[id(p.node)] = p
            if ep.bn_after_pool is not None:
                self.same_as[id(ep.bn_after_pool)] = ep.bn_after_pool.inputs[0]
            users = g.users(ep.output)
            if self.opts.fuse_activation and p.node.op == "Conv":
                rsign = self._fused_threshold(p, absorbed)
                if rsign is not None:
                    self.skipped.add(id(rsign))
                    others = [u for u in users if u is not rsign]
                    p.mode = "float+bits" if others or ep.output in g.outputs else "bits"
                    continue
            if users and all(id(u) in absorbed for u in users) and ep.output not in g.outputs:
                p.mode = "bits"
            elif any(id(u) in candidates for u in users):     # its signs feed a binary op
                p.mode = "float+bits"
        for n in g.nodes:
            nid = id(n)
            if n.op in FLOAT_FUSING and not (nid in self.skipped or nid in self.emit_at or nid in self.same_as):
                ep = match_float_epilogue(g, n)
                self.float_epilogues[nid] = ep
                self.skipped.update(id(x) for x in ep.fused)
        # x + b (b per channel) read only by vanishing Signs: SignPack(x, threshold b) packs it.
        for p in self.plans.values():
            self._plan_threshold(p.data.source, absorbed)
        # A Clip(lo < 0 < hi) read only by vanishing Signs changes no sign: its input's bits serve.
        for n in g.nodes:
            if n.op != "Clip" or id(n) in self.emit_at or id(n) in self.skipped or n.outputs[0] in g.outputs:
                continue
            users = g.users(n.outputs[0])
            if users and all(id(u) in absorbed for u in users):
                bounds = clip_bounds(g, n)
                if bounds is not None and bounds[0] < 0 < bounds[1]:
                    self.same_as[id(n)] = n.inputs[0]

    def _fused_threshold(self, p: BinaryPlan, absorbed: Set[int]) -> Optional[Node]:
        """The next RSign's shift, y + t with t per channel read only by vanishing Signs, when it
        is the one reader of the epilogue's output y whose signs are needed: planned into the
        op (bits = sign(y + t)); returns its Add/Sub node, else None."""
        g, ep = self.g, p.epilogue
        channels = p.weight.alpha.size
        users = g.users(ep.output)
        if any(id(u) in absorbed for u in users):     # sign(y) itself is needed too
            return None
        found = [(u, t) for u in users for t in [self._sign_threshold(u, ep.output, channels, absorbed)]
                 if t is not None]
        if len(found) != 1:
            return None
        u, ep.threshold = found[0]
        ep.bits_output = u.outputs[0]
        return u

    def _sign_threshold(self, shifter: Node, x: str, channels: int, absorbed: Set[int]) -> Optional[np.ndarray]:
        """t as float32 [channels] when shifter computes x + t (Add/Sub of a constant, per channel
        or scalar) and its output is read only by Sign/Pad nodes that vanish into binary ops."""
        g = self.g
        out = shifter.outputs[0]
        if out in g.outputs or not g.users(out) or not all(id(u) in absorbed for u in g.users(out)):
            return None
        b = constant_offset(g, shifter, x)
        if b is None or b.size not in (1, channels):
            return None
        return np.broadcast_to(b, (channels,)).astype(np.float32)

    def _merge_concats(self) -> None:
        """ReActNet-A's channel doubling, cat([bn1(conv1(x)) + s, bn2(conv2(x)) + s]) on the
        channel axis: binary convs that each are read only by the Concat become one op with
        their output channels stacked and s read with channel repeat (_merged_plan)."""
        g = self.g
        by_output = {p.epilogue.output: p for p in self.plans.values()}
        for n in g.nodes:
            if not concat_on_channels(g, n):
                continue
            parts = [by_output.get(i) for i in n.inputs]
            if any(p is None for p in parts) or len({id(p) for p in parts}) != len(parts) \
                    or any(g.sole_user(i) is not n for i in n.inputs):
                continue
            merged = self._merged_plan(n, parts)
            if merged is not None:
                for p in parts:
                    del self.plans[id(p.node)]
                self.plans[id(merged.node)] = merged

    def _merged_plan(self, cat: Node, parts: List[BinaryPlan]) -> Optional[BinaryPlan]:
        """One op for the binary convs `parts` that `cat` concatenates, or None when they differ
        in input, geometry, padding, residual or clip, or when merging could change a bit:
        per channel the op must compute what the separate convs compute. Shift and scale
        stack when every part has a shift or none has; otherwise a part's shift k goes into
        its scale, which is exact only when scale·2^-k is a float32 (checked: then
        (dot·2^-k)·scale and dot·(scale·2^-k) round the same real number once)."""
        g = self.g

        def signature(p: BinaryPlan):
            n, ep = p.node, p.epilogue
            attrs = conv_attrs(n, g.shape(n.inputs[0]), g.shape(n.outputs[0]), p.weight.negative.shape)
            return (n.op, p.data.source, tuple(p.data.pads), p.data.pad_value, repr(attrs),
                    p.weight.negative.shape[1:], ep.residual, ep.residual_repeat, ep.clip,
                    ep.bn_after_pool is None and ep.act is None and ep.threshold is None)

        first = parts[0]
        if first.node.op != "Conv" or first.node.attrs.get("group", 1) != 1 \
                or len({signature(p) for p in parts}) != 1 or not signature(first)[-1]:
            return None
        constants = [self.epilogue_constants(p) for p in parts]
        if len({bias is None for _, _, bias in constants}) != 1:
            return None         # adding 0 where a part adds nothing would turn -0 into +0
        if all(shift is not None for shift, _, _ in constants):
            shift = np.concatenate([c[0] for c in constants])
            scale = np.concatenate([c[1] for c in constants])
        else:
            shift, scales = None, []
            for k, part_scale, _ in constants:
                if k is not None:
                    power = np.exp2(-k.astype(np.float64))
                    folded = part_scale * power
                    if not np.array_equal(folded.astype(np.float32),
                                          part_scale.astype(np.float32) * power.astype(np.float32)):
                        return None
                    part_scale = folded
                scales.append(part_scale)
            scale = np.concatenate(scales)
        bias = None if constants[0][2] is None else np.concatenate([c[2] for c in constants])
        ep = first.epilogue
        merged_ep = Epilogue(residual=ep.residual, clip=ep.clip, output=cat.outputs[0],
                             residual_repeat=ep.residual_repeat * (len(parts) if ep.residual else 1),
                             fused=[x for p in parts for x in p.epilogue.fused] + [cat])
        weight = BinaryWeight(np.concatenate([p.weight.negative for p in parts]),
                              np.concatenate([p.weight.alpha for p in parts]),
                              any(p.weight.ste_rounding for p in parts))
        match_activation(g, merged_ep, g.sole_user(cat.outputs[0]), weight.alpha.size)
        path = list({id(x): x for p in parts for x in p.data.path}.values())   # each conv's Sign (and Pad)
        data = BinaryData(first.data.source, first.data.pads, first.data.pad_value, path)
        return BinaryPlan(first.node, data, weight, merged_ep, merged=[p.node for p in parts[1:]],
                          constants=(shift, scale, bias))

    def _plan_threshold(self, source: str, absorbed: Set[int]) -> None:
        """Plans SignPack's threshold for `source` = Add/Sub(x, per-channel constant) when
        every reader of `source` is a vanishing Sign/Pad and the Add is not fused elsewhere."""
        g = self.g
        shifter = g.producer.get(source)
        if shifter is None or source in self.thresholds:
            return
        nid = id(shifter)
        if nid in self.skipped or nid in self.emit_at or nid in self.same_as:
            return
        x = next((i for i in shifter.inputs if i not in g.consts), None)
        t = None if x is None else self._sign_threshold(shifter, x, g.shape(source)[1], absorbed)
        if t is None:
            return
        self.thresholds[source] = (x, t)
        self.skipped.add(nid)
        self.float_epilogues.pop(nid, None)

    def _plan_binary(self, n: Node) -> Optional[BinaryPlan]:
        g = self.g
        spatial = n.op == "Conv"
        w = g.const(n.inputs[1])
        rank = 4 if spatial else 2
        if len(g.shape(n.inputs[0])) != rank or (w is not None and w.ndim != rank):
            return None      # 1-D/3-D convs and batched matmuls have no binary op
        if n.op == "Gemm":
            ok = w is not None and w.ndim == 2 and not n.attrs.get("transA", 0)
            w = (w if n.attrs.get("transB", 0) else w.T) * float(n.attrs.get("alpha", 1.0)) if ok else None
        elif n.op == "MatMul":
            w = w.T if w is not None and w.ndim == 2 else None
        if not spatial and w is not None and w.shape[1] != g.shape(n.inputs[0])[1]:
            return None      # K mismatch: the float Gemm handler reports it
        data = match_binary_data(g, n.inputs[0], spatial)
        why = ""
        bw = None
        if w is None:
            why = "weight is not a constant of a supported shape"
        else:
            bw, why = binary_weight(w)
        if data is None:
            if bw is not None:
                self.float_reason[n.name] = ("1W/32A: ±α weights on real-valued activations, kept as a "
                                             "float layer (the runtime has no 1W/32A op)")
            return None
        if n.name in self.opts.keep_float:
            self.float_reason[n.name] = "--keep-float"
            return None
        if bw is None:
            self.float_reason[n.name] = f"input is sign(x) but {why}"
            return None
        own_pads = any(n.attrs.get("pads", [0])) or n.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID")
        if spatial and any(data.pads) and own_pads and data.pad_value != 0:
            self.float_reason[n.name] = ("a Pad node (value ≠ 0) and the Conv's own zero pads "
                                          "give two different padding values")
            return None
        channels = bw.alpha.size
        ep = match_epilogue(g, n.outputs[0], channels, allow_residual=spatial,
                            fuse_activation=self.opts.fuse_activation)
        return BinaryPlan(n, data, bw, ep)

    # -- emission -------------------------------------------------------------
    def run(self) -> IrbWriter:
        self.plan()
        g = self.g
        for name in g.inputs:
            self.new_f32(name)
        for n in g.nodes:
            nid = id(n)
            if nid in self.skipped:          # absorbed or fused into another op
                continue
            if nid in self.same_as:
                self.values[n.outputs[0]] = self.values[self.same_as[nid]]
            elif nid in self.emit_at:
                self.emit_binary(self.emit_at[nid])
            else:
                HANDLERS[n.op](self, n)
        outputs = []
        for name in g.outputs:
            v = self.values.get(name)
            if v is None or v.f32 is None:
                raise ConvertError(f"graph output '{name}' has no float value in the engine graph")
            outputs.append(v.f32)
        self.w.set_io([self.values[i].f32 for i in g.inputs], outputs)
        return self.w

    def epilogue_constants(self, p: BinaryPlan):
        """(shift int32 or None, scale float64, bias float64 or None) of a binary op.

        y = α_o·dot + b_o, then the folded BN: g_o·y + h_o, then the constants added after
        it (`offset`, moved before the residual). α_o = 2^−k (k ≥ 0) for
        every channel becomes shift k (unless --no-bit-shift); otherwise it goes
        into the scale together with g_o.
        """
        n, ep = p.node, p.epilogue
        out_channels = p.weight.alpha.size
        alpha = p.weight.alpha.astype(np.float64)
        mantissa, exponent = np.frexp(alpha)          # alpha = mantissa · 2^exponent
        use_shift = self.opts.bit_shift and np.all(mantissa == 0.5) and np.all(exponent <= 1) \
            and np.any(alpha != 1)
        shift = (1 - exponent).astype(np.int32) if use_shift else None
        scale = np.ones(out_channels) if use_shift else alpha
        bias = None
        if len(n.inputs) > 2 and n.inputs[2]:
            c = self.g.const(n.inputs[2])
            require(c is not None and c.size in (1, out_channels), n,
                    "the bias must be a constant with one value per output channel")
            bias = np.broadcast_to(np.asarray(c, dtype=np.float64).reshape(-1), (out_channels,)).copy()
            if n.op == "Gemm":
                bias *= float(n.attrs.get("beta", 1.0))
        if ep.scale is not None:
            bias = ep.shift + (0 if bias is None else bias * ep.scale)
            scale = scale * ep.scale
        if ep.offset is not None:
            bias = ep.offset + (0 if bias is None else bias)
        return shift, scale, bias

    def emit_binary(self, p: BinaryPlan) -> None:
        g, n, ep, bw = self.g, p.node, p.epilogue, p.weight
        x_bits = self.bits_of(p.data.source, n)
        out_channels = bw.alpha.size
        shift, scale, bias = p.constants or self.epilogue_constants(p)
        inputs: List[Optional[int]] = [x_bits]
        attrs: Dict[str, object] = {"mode": p.mode}
        out_shape = list(g.shape(n.outputs[0]))
        out_shape[1] = out_channels                  # all merged convs' channels
        if n.op == "Conv":
            attrs.update(conv_attrs(n, g.shape(n.inputs[0]), out_shape, bw.negative.shape))
            attrs["pads"] = [a + b for a, b in zip(attrs["pads"], p.data.pads)]   # + absorbed Pad node
            require(max(attrs["pads"]) < 2 ** 31, n, f"padding {attrs['pads']} (with the Pad node's) "
                    "is beyond the engine's limit 2^31 - 1")
            attrs["pad_value"] = p.data.pad_value if any(p.data.pads) else 0
            w = layout.conv_weight_ohwi(bw.negative)
            op = "BinaryConv2d"
        else:
            w = bw.negative
            op = "BinaryGemm"
        inputs.append(self.constant(n.name + ".w", "bits", list(w.shape), pack_bits(np.where(w, -1, 1))))
        inputs.append(None if shift is None else self.constant(n.name + ".shift", "i32", [out_channels], shift))
        inputs.append(None if np.all(scale == 1) else self.f32_const(n.name + ".scale", scale))
        inputs.append(None if bias is None else self.f32_const(n.name + ".bias", bias))
        if n.op == "Conv":
            inputs.append(None if ep.residual is None else self.f32_of(ep.residual, n))
        if ep.act is not None or ep.threshold is not None:
            act = ep.act
            for suffix, values in ((".act_shift_in", act and act.shift_in), (".act_slope", act and act.slope),
                                   (".act_shift_out", act and act.shift_out), (".threshold", ep.threshold)):
                inputs.append(None if values is None else self.f32_const(n.name + suffix, values))
        if ep.clip is not None:
            attrs["clip"] = [float(b) for b in ep.clip]
        shape = g.shape(ep.output)
        outs = []
        if p.mode != "bits":
            outs.append(self.activation_tensor(ep.output, "f32", shape))
            self.values[ep.output] = Value(shape, f32=outs[0])
        if p.mode != "float":
            signed = ep.bits_output or ep.output       # the bits are sign(y + threshold) or sign(y)
            outs.append(self.activation_tensor(signed + ":bits", "bits", shape))
            self.values.setdefault(signed, Value(shape)).bits = outs[-1]
        self.w.add_node(op, " + ".join(x.name for x in p.nodes), inputs, outs, attrs)
        k = int(np.prod(w.shape[1:]))
        fused = [x.op for x in ep.fused] + (["BatchNormalization (moved before MaxPool)"]
                                            if ep.bn_after_pool is not None else []) \
            + (["Add (RSign threshold)"] if ep.threshold is not None else [])
        fused_text = " + ".join(fused) if fused else "nothing"
        detail = (f"shift {sorted(set(shift.tolist()))}" if shift is not None
                  else "scale" if inputs[3] is not None else "no scale")
        self.report.layer(LayerInfo(
            " + ".join(x.name for x in p.nodes), op, True, int(np.prod(out_shape)) * k, w.size, "",
            f"{detail}; pad_value {attrs.get('pad_value', 0)}; mode {p.mode}; fused {fused_text}",
            self.recognised(p)))

    def recognised(self, p: BinaryPlan) -> List[str]:
        """The idioms of training code (docs/converter.md) seen around one binary op."""
        g, n = self.g, p.node
        found = []
        sign = next(x for x in p.data.path if x.op == "Sign")
        if sign.outputs[0] in g.ste.values():
            found.append("STE on activations removed")
        if n.inputs[1] in g.ste:
            found.append("STE on weights removed before folding")
        if p.weight.ste_rounding:
            found.append("weights ±α within a folded STE's float rounding (α = mean magnitude)")
        shifter = g.producer.get(p.data.source)
        if p.data.source in self.thresholds:
            found.append("threshold: sign(x + b) with b per channel (SignPack threshold)")
        elif any(q.epilogue.bits_output == p.data.source for q in self.plans.values()):
            found.append("threshold: sign(x + b) with b per channel (RSign threshold of the binary op before)")
        elif shifter is not None and any(constant_offset(g, shifter, x) is not None
                                         for x in shifter.inputs if x not in g.consts):
            found.append("threshold: sign(x + b) with b per channel (Add before SignPack)")
        ep = p.epilogue
        if ep.offset is not None:
            found.append("per-channel shift after the conv folded into the bias")
        if p.merged:
            found.append(f"doubling concat merged: {len(p.nodes)} convs on one input, output channels stacked")
        if ep.residual is not None:
            producer = g.producer.get(ep.residual)
            if ep.residual_repeat > 1:
                found.append(f"residual read with channel repeat r = {ep.residual_repeat} (no Concat copy)")
            elif producer is not None and producer.op == "Concat" and len(set(producer.inputs)) == 1:
                found.append("residual is channel duplication Concat([x, x])")
        if ep.act is not None:
            found.append("RPReLU: " + " -> ".join(
                step for step, values in (("shift", ep.act.shift_in), ("PReLU", ep.act.slope),
                                          ("shift", ep.act.shift_out)) if values is not None))
        if ep.threshold is not None:
            found.append("RSign threshold of the next binary op: writes sign(y + t)")
        return found


def lower(graph: Graph, options: Options):
    """Returns (IrbWriter ready to save, Report)."""
    lowering = Lowering(graph, options)
    writer = lowering.run()
    return writer, lowering.report
