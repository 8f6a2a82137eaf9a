"""The runtime-only install (numpy and irnet-infer, as on a 32-bit Raspberry Pi): the runtime,
irnet-run and the harness's --irb mode work without onnx, onnxruntime or torch, and
irnet-convert says at once how to install what it lacks.

Each check runs in a child interpreter where those packages cannot be imported (their
sys.modules entries are None), so it holds on a machine that has them too; scripts/test.sh pi
runs this file in emulated Debian 12 arm64/armhf roots where they are really absent.
"""
import json
import os
import subprocess
import sys

import pytest

import irnet_infer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_model import build_resnet_like, make_params  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONVERTER_ONLY = ("onnx", "onnxruntime", "torch", "onnxscript")
WITHOUT_CONVERTER = f"import sys; sys.modules.update(dict.fromkeys({CONVERTER_ONLY!r}))\n"


def run_without_converter(code: str, *args: str, cwd: str = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_CONVERTER + code, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("runtime_only") / "resnet_like.irb"
    build_resnet_like(path, make_params())
    return str(path)


def test_the_runtime_runs_and_imports_no_converter_package(model_path):
    proc = run_without_converter(
        "import numpy as np, irnet_infer, irnet_infer.cli, irnet_infer.irb, irnet_infer.convert\n"
        "m = irnet_infer.Model(sys.argv[1])\n"
        "y = m.run(np.ones(m.inputs[0]['shape'], np.float32))\n"
        "loaded = sorted(k for k in sys.modules if k.split('.')[0] in "
        f"{CONVERTER_ONLY!r} and sys.modules[k] is not None)\n"
        "print(y.shape, loaded)\n", model_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0].endswith(" []"), proc.stdout


def test_irnet_convert_without_onnx_fails_at_once_naming_the_extra(tmp_path):
    out = tmp_path / "digits.irb"
    proc = run_without_converter(
        "import runpy; sys.argv = ['irnet-convert'] + sys.argv[1:]\n"
        "runpy.run_module('irnet_infer.convert', run_name='__main__')\n",
        os.path.join(ROOT, "models", "irnet_digits.onnx"), str(out))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("irnet-convert: error: the converter needs the 'onnx' package"), proc.stderr
    assert "pip install 'irnet-infer[convert]'" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_convert_api_without_onnx_raises_naming_the_extra(tmp_path):
    proc = run_without_converter(
        "from irnet_infer.convert import convert\n"
        "try:\n"
        "    convert(sys.argv[1], sys.argv[2])\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e.name, '|', e)\n",
        os.path.join(ROOT, "models", "irnet_digits.onnx"), str(tmp_path / "x.irb"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("onnx | the converter needs the 'onnx' package"), proc.stdout
    assert "irnet-infer[convert]" in proc.stdout


def test_table5_irb_mode_times_a_converted_model_with_the_runtime_only(model_path, tmp_path):
    proc = run_without_converter(
        "import runpy; sys.argv = ['table5'] + sys.argv[1:]\n"
        "runpy.run_module('benchmarks.table5', run_name='__main__')\n",
        "--irb", model_path, "--threads", "1,2", "--runs", "3", "--warmup", "1",
        "--work-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "irb_benchmark.json").read_text())
    m = result["irb"]
    assert m["irb_bytes"] == os.path.getsize(model_path)
    assert m["inputs"] == [{"name": i["name"], "shape": list(i["shape"])}
                           for i in irnet_infer.Model(model_path).inputs]
    summary = irnet_infer.Model(model_path).summary_dict()
    assert m["macs"] == {"binary": summary["binary_macs"], "float": summary["float_macs"]}
    assert set(m["threads"]) == {"1", "2"}
    for lat in m["threads"].values():
        assert lat["runs"] == 3 and 0 < lat["min_ms"] <= lat["median_ms"] <= lat["max_ms"]
    table = (tmp_path / "irb_benchmark.md").read_text()
    assert "| threads | median ms |" in table and table in proc.stdout
    assert f"[table5] wrote {tmp_path / 'irb_benchmark.json'}, {tmp_path / 'irb_benchmark.md'}" in proc.stdout


def test_table5_without_torch_says_how_to_measure_on_a_pi(tmp_path):
    proc = run_without_converter(
        "import runpy; sys.argv = ['table5'] + sys.argv[1:]\n"
        "runpy.run_module('benchmarks.table5', run_name='__main__')\n",
        "--quick", "--work-dir", str(tmp_path))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "needs the 'torch' package" in proc.stderr and "--irb MODEL.irb" in proc.stderr
    assert "Traceback" not in proc.stderr
