"""Concurrency and lifetime of irnet_infer.Model.

- one Model shared by 8 Python threads x 100 runs gives, for every run, exactly
  the single-threaded result of its input;
- the intra-op thread count (1, 2, 4) never changes a result bit;
- opening, running and dropping a Model 1,000 times does not grow the resident
  set (no leaked file buffer, arena, thread pool or binding object).

The GIL speed-up (2 Python threads on 2 cores) is measured, not asserted, by
    python tests/python/test_concurrency.py --speedup
and recorded in docs/hardening.md.
"""
import gc
import os
import sys
import threading
import time

import numpy as np
import pytest

import irnet_infer
from irnet_infer.convert import convert
from irnet_infer.irb import IrbWriter, pack_bits
from test_model import H, N, W, build_resnet_like, make_params

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS_ONNX = os.path.join(ROOT, "models", "irnet_digits.onnx")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{name: path}: the hand-built ResNet-like graph and the converted digits network."""
    d = tmp_path_factory.mktemp("concurrency")
    build_resnet_like(d / "resnet_like.irb", make_params())
    convert(DIGITS_ONNX, str(d / "digits.irb"))
    return {"resnet_like": d / "resnet_like.irb", "digits": d / "digits.irb"}


def random_inputs(model, count, seed):
    rng = np.random.default_rng(seed)
    shape = model.inputs[0]["shape"]
    return [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(count)]


@pytest.mark.parametrize("name", ["resnet_like", "digits"])
def test_eight_python_threads_share_one_model(models, name):
    m = irnet_infer.Model(models[name], threads=2)
    xs = random_inputs(m, 8, seed=1)
    expected = [irnet_infer.Model(models[name], threads=1).run(x) for x in xs]
    assert not np.array_equal(expected[0], expected[1])  # distinct inputs, distinct results
    mismatches = []
    errors = []
    start = threading.Barrier(8)

    def worker(i):
        try:
            start.wait()
            for k in range(100):
                # Each thread cycles through all inputs so that concurrent calls
                # on different data overlap in the shared arena pool.
                j = (i + k) % len(xs)
                if not np.array_equal(m.run(xs[j]), expected[j]):
                    mismatches.append((i, k))
        except Exception as e:  # surfaces in the main thread's assertion
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert mismatches == []


@pytest.mark.parametrize("name", ["resnet_like", "digits"])
def test_intra_op_threads_do_not_change_results(models, name):
    xs = random_inputs(irnet_infer.Model(models[name]), 3, seed=2)
    results = {t: [irnet_infer.Model(models[name], threads=t).run(x) for x in xs] for t in (1, 2, 4)}
    for t in (2, 4):
        for got, want in zip(results[t], results[1]):
            np.testing.assert_array_equal(got, want)


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_open_run_close_does_not_leak(models):
    x = np.zeros((N, 3, H, W), np.float32)

    def cycle():
        m = irnet_infer.Model(models["resnet_like"], threads=2)
        m.run(x)
        del m

    for _ in range(50):  # warm-up: allocator pools, numpy caches, lazily loaded code
        cycle()
    gc.collect()
    before = resident_bytes()
    for _ in range(1000):
        cycle()
    gc.collect()
    growth = resident_bytes() - before
    # One model (file buffer + arena + graph) is ~100 KB: a leak per cycle would
    # show as >= 100 MB after 1,000 cycles. 10 MB leaves room for allocator noise.
    assert growth < 10 * 2**20, f"RSS grew by {growth / 2**20:.1f} MB over 1,000 open/run/close cycles"


def build_heavy_conv(path, channels=256, size=32):
    """SignPack -> one 3x3 BinaryConv2d, channels -> channels on size x size: enough work
    per run (~0.6 G binary MACs) that the GIL-holding part of run() is negligible."""
    rng = np.random.default_rng(4)
    w = IrbWriter()
    x = w.add_tensor("x", "f32", [1, size, size, channels], layout="nhwc")
    xb = w.add_tensor("xb", "bits", [1, size, size, channels], layout="nhwc")
    w.add_node("SignPack", "sign", [x], [xb])
    k = w.add_constant("w", "bits", [channels, 3, 3, channels], pack_bits(rng.standard_normal((channels, 3, 3, channels))))
    y = w.add_tensor("y", "f32", [1, size, size, channels], layout="nhwc")
    w.add_node("BinaryConv2d", "conv", [xb, k], [y], {"kernel": [3, 3], "pads": [1, 1, 1, 1], "mode": "float"})
    w.set_io([x], [y])
    w.save(path)


def measure_speedup(path, runs):
    """Wall time of `runs` calls from 1 Python thread vs the same calls split over 2,
    and each phase's process CPU time / wall time."""
    m = irnet_infer.Model(path, threads=1)
    x = random_inputs(m, 1, seed=3)[0]
    for _ in range(20):
        m.run(x)

    def work(count):
        for _ in range(count):
            m.run(x)

    t0, c0 = time.perf_counter(), time.process_time()
    work(runs)
    one, one_cpu = time.perf_counter() - t0, time.process_time() - c0
    threads = [threading.Thread(target=work, args=(runs // 2,)) for _ in range(2)]
    t0, c0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    two, two_cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU time / wall time above 1 means both threads computed at the same moment,
    # which they can only do if run() releases the GIL.
    return one, two, one_cpu / one, two_cpu / two


if __name__ == "__main__" and "--speedup" in sys.argv:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        convert(DIGITS_ONNX, os.path.join(d, "digits.irb"))
        build_heavy_conv(os.path.join(d, "conv256.irb"))
        print(f"os.cpu_count()={os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
        for name, runs in (("digits.irb", 400), ("conv256.irb", 40)):
            for _ in range(3):
                one, two, busy1, busy2 = measure_speedup(os.path.join(d, name), runs)
                print(f"{name}: {runs} runs, 1 Python thread {one * 1e3:.0f} ms (cpu/wall {busy1:.2f}), "
                      f"2 Python threads {two * 1e3:.0f} ms (cpu/wall {busy2:.2f}): speed-up x{one / two:.2f}")
