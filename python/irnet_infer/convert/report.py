"""The conversion summary printed on stdout: which layers became binary, which
stayed float and why, binary and float MACs, the file size, and warnings."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List


@dataclass
class LayerInfo:
    name: str
    op: str              # engine op: BinaryConv2d, BinaryGemm, Conv2d, Gemm
    binary: bool
    macs: int            # multiply-accumulates per forward pass
    weights: int         # number of weights (bits for binary layers)
    reason: str          # why a layer stayed float ("" for binary layers)
    detail: str          # scales, padding, output mode, fused ops
    recognised: List[str] = field(default_factory=list)   # idioms of training code seen (binary layers)


@dataclass
class Report:
    layers: List[LayerInfo] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def layer(self, info: LayerInfo) -> None:
        self.layers.append(info)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def binary_macs(self) -> int:
        return sum(x.macs for x in self.layers if x.binary)

    @property
    def float_macs(self) -> int:
        return sum(x.macs for x in self.layers if not x.binary)

    def render(self, output: str, size_bytes: int) -> str:
        lines = []
        binary = [x for x in self.layers if x.binary]
        floats = [x for x in self.layers if not x.binary]
        lines.append(f"binary layers: {len(binary)}")
        for x in binary:
            lines.append(f"  {x.name}: {x.op}, {x.macs:,} MACs; {x.detail}")
            if x.recognised:
                lines.append(f"    recognised: {'; '.join(x.recognised)}")
        lines.append(f"float layers: {len(floats)}")
        for x in floats:
            lines.append(f"  {x.name}: {x.op}, {x.macs:,} MACs; {x.reason}")
        lines.append(f"MACs: binary {self.binary_macs:,}, float {self.float_macs:,}")
        lines.append(f"weights: {sum(x.weights for x in binary):,} binary (1 bit), "
                     f"{sum(x.weights for x in floats):,} float in conv/gemm layers")
        lines.append(f"wrote {output}: {size_bytes:,} bytes ({size_bytes / 1e6:.2f} MB)")
        for w in self.warnings:
            lines.append(f"WARNING: {w}")
        return "\n".join(lines)
