"""How the engine splits a layer over the Pi's four cores, counted exactly: one binary
conv at 4 threads under qemu-aarch64 with the per-guest-thread counter
(benchmarks/arm_table.thread_balance). Every thread must get an equal share of the
layer's instructions, also when the layer is small (7x7, 14x14)."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from benchmarks import arm_table  # noqa: E402
from irnet_infer.irb import IrbWriter  # noqa: E402
from test_concurrency import build_heavy_conv  # noqa: E402


def balance_of(path):
    report = arm_table.measure_balance({"model": type("Files", (), {"irb": path})()})
    assert "skipped" not in report, report.get("skipped")
    assert report["model"]["outputs_match_1_thread"]
    return report["model"]


@pytest.mark.parametrize("size,channels", [(7, 256), (14, 128)])
def test_small_binary_conv_uses_all_four_threads_evenly(tmp_path, size, channels):
    path = str(tmp_path / f"conv{size}.irb")
    build_heavy_conv(path, channels=channels, size=size)
    conv = balance_of(path)
    parts = conv["parts_per_thread"]
    # The binary conv's own instructions per thread (the input's layout transpose and
    # sign packing run before it, on the calling thread).
    conv_work = [sum(parts[p][t] for p in parts if p.startswith("binary:")) for t in range(4)]
    assert min(conv_work) > 0
    # Rows go to threads in tiles of 4, the last one partial: 49 rows as 12 + 12 + 12 + 13
    # (one thread runs an extra 1-row edge tile), 196 rows as 48 + 48 + 48 + 52.
    assert max(conv_work) / (sum(conv_work) / 4) <= 1.08, conv_work


@pytest.mark.parametrize("size,channels", [(7, 1024), (14, 512)])
def test_elementwise_op_uses_all_four_threads_evenly(tmp_path, size, channels):
    """A per-channel PRelu (one of the ops between ReActNet's binary convs): its rows
    split over 4 threads within one row of each other."""
    w = IrbWriter()
    x = w.add_tensor("x", "f32", [1, size, size, channels], layout="nhwc")
    slope = w.add_constant("slope", "f32", [channels], np.linspace(0.1, 0.4, channels, dtype=np.float32))
    y = w.add_tensor("y", "f32", [1, size, size, channels], layout="nhwc")
    w.add_node("PRelu", "prelu", [x, slope], [y])
    w.set_io([x], [y])
    path = str(tmp_path / "prelu.irb")
    w.save(path)
    report = balance_of(path)
    per_thread = next(counts for name, counts in report["largest_functions"] if "PReluOp" in name)
    assert min(per_thread) > 0
    # 49 rows as 12 + 12 + 12 + 13 (grains of 16 rows had given 16 + 16 + 16 + 1), 196 as 49 each.
    assert max(per_thread) / (sum(per_thread) / 4) <= 1.08, per_thread
