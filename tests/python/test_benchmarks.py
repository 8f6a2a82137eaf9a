"""Smoke test of the Table 5 harness (`python -m benchmarks.table5 --quick`): it
builds the three ResNet-18 models with the project's tools and converter, times
them against onnxruntime, and writes the table, JSON and chart. Timing values
are not asserted (the machine is shared); structure and sizes are."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def test_compare_revisions_reads_irnet_run(tmp_path):
    """The before/after harness parses the real irnet-run output: the pass median and
    one (kernel, ms) entry per layer; its report has a ratio per row."""
    from pathlib import Path

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
