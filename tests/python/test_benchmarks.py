"""Smoke test of the Table 5 harness (`python -m benchmarks.table5 --quick`): it
builds the three ResNet-18 models with the project's tools and converter, times
them against onnxruntime, and writes the table, JSON and chart. Timing values
are not asserted (the machine is shared); structure and sizes are."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT_DOCS = Path(ROOT) / "docs"


@pytest.mark.torch
def test_table5_quick(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks.table5", "--quick", "--work-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "benchmarks.json").read_text())

    sizes = result["sizes"]
    for key in ("fp32", "irnet", "irnet_noshift"):
        assert sizes[key]["irb_bytes"] == os.path.getsize(tmp_path / f"resnet18_{key}.irb")
    # The paper's accounting of IR-Net ResNet-18: 707,064 float parameters + 10,985,472 binary weights.
    assert sizes["irnet"]["fp_params"] == 707_064
    assert sizes["irnet"]["binary_params"] == 10_985_472
    assert abs(sizes["irnet_noshift"]["paper_accounting_mb"] - 4.20) < 0.005
    # The .irb files are within 1 % of that accounting (headers, alignment, BN vectors).
    assert abs(sizes["irnet_noshift"]["irb_mb"] / sizes["irnet_noshift"]["paper_accounting_mb"] - 1) < 0.01
    # Shift storage makes the shifted model larger, as in the paper (4.20 -> 4.21 MB).
    assert sizes["irnet"]["irb_bytes"] > sizes["irnet_noshift"]["irb_bytes"]

    host = result["host"]["1"]
    for name in ("irnet:fp32", "irnet:irnet", "irnet:irnet_noshift", "onnxruntime:fp32"):
        assert host[name]["runs"] == 5 and 0 < host[name]["min_ms"] <= host[name]["median_ms"]
    table = (tmp_path / "benchmarks.md").read_text()
    assert "| IR-Net | 1/1 | 4.21 |" in table and "261.98" in table
    assert (tmp_path / "benchmarks.png").stat().st_size > 1000
    # 5 runs: the ratios are labelled indicative, not bold; no pointer to the A53 section it skips.
    assert "Indicative only (5 runs, --quick" in table and "**" not in table.split("## Host peers")[1]
    assert "see below" not in table and "## Cortex-A53" not in table
    assert f"[table5] wrote {tmp_path / 'benchmarks.json'}, {tmp_path / 'benchmarks.md'}, " \
           f"{tmp_path / 'benchmarks.png'}" in proc.stdout


@pytest.mark.torch
def test_table5_quick_bireal_resnet18(tmp_path):
    """`--model bireal_resnet18`: Bi-Real Net's own ResNet-18 built by the benchmark zoo
    (trained-like weights, exported, converted by this converter), its rows alone in the work
    dir (sizes, host against onnxruntime on the same ONNX, outputs against onnxruntime), and
    docs/ left as the last complete run wrote them."""
    docs = {name: (ROOT_DOCS / name).read_bytes() for name in ("benchmarks.json", "benchmarks.md")}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.table5", "--quick", "--model", "bireal_resnet18",
                           "--work-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "benchmarks.json").read_text())
    assert "sizes" not in result and "reactnet_a" not in result and "balance" not in result
    net = result["bireal_resnet18"]
    # The IR-Net model's binary weights; 3,024 float parameters fewer (no BatchNorm1d before
    # and after its fc), and no bit-shift bytes.
    assert net["sizes"]["binary_params"] == 10_985_472 and net["sizes"]["fp_params"] == 707_064 - 3_024
    assert net["sizes"]["irb_bytes"] == os.path.getsize(tmp_path / "bireal_resnet18.irb")
    assert net["macs"]["binary"] == 1_676_279_808
    assert net["host"]["irnet"]["runs"] == net["host"]["onnxruntime"]["runs"] == 5
    o = net["outputs"]
    assert o["samples"] == 8 and o["real_mismatches"] == 0 and o["top1_identical"] == o["compared"] > 0
    assert o["median_relative_l2"] < 1e-4
    assert "qemu" not in net
    table = (tmp_path / "benchmarks.md").read_text()
    assert "## Bi-Real ResNet-18 (224×224, 1 thread)" in table and "ReActNet-A" not in table
    assert "| outputs against onnxruntime (8 random inputs) |" in table
    assert {name: (ROOT_DOCS / name).read_bytes() for name in docs} == docs


def test_compare_revisions_reads_irnet_run(tmp_path):
    """The before/after harness parses the real irnet-run output: the pass median and
    one (kernel, ms) entry per layer; its report has a ratio per row."""
    import irnet_infer
    from benchmarks import compare_revisions
    from irnet_infer.cli import find_irnet_run

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_model import build_resnet_like, make_params

    model = tmp_path / "m.irb"
    build_resnet_like(model, make_params())
    binary = find_irnet_run()
    assert binary is not None
    host = compare_revisions.host_ab({"base": Path(binary), "head": Path(binary)}, str(model), rounds=2, runs=2)
    layers = irnet_infer.Model(str(model)).summary_dict()["layers"]
    for side in ("base", "head"):
        assert host["median"][side]["pass"] > 0
        timed = host["median"][side]["layers"]
        assert len(timed) == len(layers) and all(ms >= 0 for ms in timed.values())
        assert all(kernel for kernel in host["kernels"][side].values())
    report = compare_revisions.render("A", "B", host, {})
    assert "| host, whole pass (ms) |" in report
    assert report.count("×") >= len(layers)  # whole pass + one ratio per timed layer
    # --kernels: one binary, each side under its own IRNET_KERNELS.
    forced = {"base": "sgemm=sgemm_4x8_portable", "head": "sgemm=auto"}
    host = compare_revisions.host_ab({"base": Path(binary), "head": Path(binary)}, str(model), rounds=2, runs=2,
                                     irnet_kernels=forced)
    fc = [name for name in host["kernels"]["base"] if name.endswith(" fc")]
    assert len(fc) == 1
    assert host["kernels"]["base"][fc[0]] == "sgemm_4x8_portable"
    assert host["kernels"]["head"][fc[0]] == irnet_infer.selected_kernel("sgemm")


def _small_binary_network(tmp_path):
    """IR-Net ResNet-20 (CIFAR, 32x32), exported and converted: a network the
    converter handles, for the harness rows that ReActNet-A gets."""
    import torch
    from benchmarks import models as model_zoo
    from irnet_infer.convert import convert
    from tools.irnet_torch.export import export, randomize_batchnorm
    from tools.irnet_torch.models import build_model

    torch.manual_seed(0)
    model, shape = build_model("resnet20")
    randomize_batchnorm(model, 0)
    onnx, irb = str(tmp_path / "resnet20.onnx"), str(tmp_path / "resnet20.irb")
    export(model, onnx, shape, dynamo=False, opset=13)
    convert(onnx, irb)
    fp, binary, channels = model_zoo._param_split(model)
    return model_zoo.ModelFiles("resnet20", onnx, irb, fp, binary, channels)


@pytest.mark.torch
def test_network_rows_and_thread_balance(tmp_path):
    """The ReActNet-A rows' plumbing (sizes, host against onnxruntime, outputs, exact
    aarch64 counts with the per-part table, A53 estimate) and the 4-thread balance
    report, on a network the converter handles (it exports one with torch)."""
    from benchmarks import arm_table, table5

    sys.path.insert(0, ROOT)
    files = _small_binary_network(tmp_path)
    net = table5.network_rows(files, runs=2, warmup=0, qemu_arches=("arm64",), samples=2)
    assert net["sizes"]["irb_bytes"] == os.path.getsize(files.irb)
    assert net["sizes"]["float32_bytes"] == 4 * (files.fp_params + files.binary_params)
    assert net["host"]["irnet"]["runs"] == 2 and net["host"]["onnxruntime"]["runs"] == 2
    assert net["outputs"]["samples"] == 2 and net["outputs"]["median_relative_l2"] < 1e-4
    counts = net["qemu"]["aarch64"]
    assert sum(counts["breakdown"].values()) == counts["per_pass"] > 0
    assert net["a53"] > 0
    text = "\n".join(table5.render_network(net, "ReActNet-A"))
    assert "| aarch64 instructions per pass |" in text and "| **total per pass** |" in text
    assert "| outputs against onnxruntime (2 random inputs) | top-1 identical 2/2" in text
    assert net["outputs"]["differ_at_tie"] == net["outputs"]["real_mismatches"] == 0

    balance = arm_table.measure_balance({"resnet20": files})["resnet20"]
    assert balance["threads"] == 4 and balance["outputs_match_1_thread"]
    assert sum(balance["per_thread"].values()) == balance["single_thread_pass"] + balance["outside_layer_work"]
    assert 1 <= balance["balance"] < 2
    # POOL and the part classes match demangled names: the counts are keyed by them.
    names = [name for name, _ in balance["largest_differences"] + balance["largest_functions"]]
    assert any(name.startswith("irnet::") for name in names) and not any(name.startswith("_Z") for name in names)
    assert sum(balance["parts_per_thread"]["binary: bgemm kernel"]) > 0
    text = "\n".join(table5.render_balance({"resnet20": balance}))
    assert "largest thread's layer work / mean" in text and "| outputs (checksums, top-5) as at 1 thread | identical |" in text


def test_balance_report_arithmetic():
    """Balance and the parts outside layer work, from per-thread per-symbol counts."""
    from benchmarks.arm_table import balance_report

    single = {"bgemm": 1000, "epilogue": 100, "[other]": 10}
    threaded = {0: {"bgemm": 300, "epilogue": 30, "irnet::ThreadPool::parallel_for(unsigned long)": 7, "[other]": 15},
                1: {"bgemm": 250, "epilogue": 25, "irnet::ThreadPool::worker_loop(int)": 40, "[other]": 3},
                2: {"bgemm": 250, "epilogue": 25, "irnet::ThreadPool::worker_loop(int)": 20},
                3: {"bgemm": 202, "epilogue": 22, "irnet::ThreadPool::worker_loop(int)": 30, "[other]": 1}}
    r = balance_report(threaded, single)
    assert r["layer_work"] == {0: 330, 1: 275, 2: 275, 3: 224}
    assert r["balance"] == 330 / (1104 / 4)
    assert r["outside_parts"] == {"thread pool (wake, spin, block)": 97, "libc (futex, yield, clock)": 9,
                                  "splitting (layer functions)": 4}
    assert r["outside_layer_work"] == 97 + 9 + 4 == sum(r["per_thread"].values()) - 1110
    assert r["outside_share"] == 110 / 1110


def test_compare_outputs_reports_and_leaves_out_sign_ties(tmp_path):
    """irnet against onnxruntime, input by input (tools/sign_ties.py): an input whose sign
    input is exactly 0 (ONNX's sign 0, the engine's +1) differs at a tie, is counted and
    left out of the top-1 and relative L2 figures; a model of other weights differs on
    inputs without a tie, which the figures keep and the row shows."""
    import irnet_infer
    from benchmarks import table5
    from irnet_infer.convert import convert

    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_convert_field import sign_conv_model
    from test_convert_layers import random_input

    onnx_path = str(sign_conv_model(tmp_path / "m.onnx", seed=0, batch=1))
    convert(onnx_path, tmp_path / "m.irb")
    xs = [random_input((1, 4, 5, 5), seed=s) for s in range(4)]
    xs[2][0, 1, 2, 2] = 0.0
    out = table5.compare_outputs(irnet_infer.Model(str(tmp_path / "m.irb")), onnx_path, xs)
    assert out == {"samples": 4, "sign_ties": 1, "differ_at_tie": 1, "compared": 3, "top1_identical": 3,
                   "median_relative_l2": 0.0, "max_relative_l2": 0.0, "real_mismatches": 0}

    convert(sign_conv_model(tmp_path / "other.onnx", seed=5, batch=1), tmp_path / "other.irb")
    xs[2][0, 1, 2, 2] = 1.0
    wrong = table5.compare_outputs(irnet_infer.Model(str(tmp_path / "other.irb")), onnx_path, xs)
    assert wrong["sign_ties"] == 0 and wrong["real_mismatches"] == wrong["compared"] == 4
    assert wrong["median_relative_l2"] > 0.1
    net = {"sizes": {"irb_bytes": 1, "float32_bytes": 4, "fp_params": 1, "binary_params": 0}, "input_shape": [1],
           "macs": {"binary": 0, "float": 0}, "host": {"irnet": {"runs": 1, "median_ms": 1.0}}, "skipped": {},
           "outputs": wrong}
    assert "**4 inputs differ without a tie**" in "\n".join(table5.render_network(net, "ReActNet-A"))


@pytest.mark.torch
def test_the_onnx_cache_follows_the_weights_and_a_failed_check_leaves_nothing(tmp_path, monkeypatch):
    """The benchmark models' ONNX files are cached: exported again when the weights change,
    and an export whose check against onnxruntime fails leaves no file for the next run
    to take as verified."""
    import torch

    sys.path.insert(0, ROOT)
    from benchmarks import models as model_zoo
    from tools.irnet_torch import export as export_module
    from tools.sign_ties import OutputMismatch

    exports = []

    def fake_export(model, path, *args, **kwargs):
        exports.append(path)
        with open(path, "wb") as f:
            f.write(b"onnx")
        return path

    monkeypatch.setattr(export_module, "export", fake_export)
    model, onnx = torch.nn.Linear(3, 2), tmp_path / "m.onnx"
    model_zoo._exported(model, str(onnx))
    model_zoo._exported(model, str(onnx))
    assert len(exports) == 1 and onnx.read_bytes() == b"onnx"
    with torch.no_grad():
        model.bias.add_(1.0)
    model_zoo._exported(model, str(onnx))
    assert len(exports) == 2

    def export_then_fail(model, path, *args, **kwargs):
        fake_export(model, path)
        raise OutputMismatch(f"{path}: onnxruntime against PyTorch: 2 of 4 samples differ")

    monkeypatch.setattr(export_module, "export", export_then_fail)
    other = tmp_path / "other" / "m.onnx"
    other.parent.mkdir()
    with pytest.raises(OutputMismatch):
        model_zoo._exported(model, str(other))
    assert list(other.parent.iterdir()) == []


def test_a53_kernel_sources_define_their_functions():
    """The A53 estimate reads each kernel family's loop from the source and function
    mca_kernels.KERNELS names; a kernel moved to another file or renamed must move there too
    (otherwise Table 5 loses its A53 column and cannot rewrite the docs)."""
    from benchmarks.mca_kernels import KERNELS
    for family, (source, function, marker) in KERNELS.items():
        assert source.is_file(), f"{family}: {source} does not exist"
        text = source.read_text(encoding="utf-8")
        assert function in text, f"{family}: {source.name} does not define {function}"
        assert marker in text, f"{family}: {source.name} has no {marker} instruction"
