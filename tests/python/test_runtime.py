"""irnet-run (native, and cross-built under qemu) and engine error reporting.

Run as a script to check a cross-built irnet-run against the native engine:
    python tests/python/test_runtime.py --cross "qemu-aarch64 -L /usr/aarch64-linux-gnu build/arm64/irnet-run"
(scripts/test.sh arm64 does this after the cross-built ctest suite.)
"""
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import pytest

import irnet_infer
from irnet_infer.irb import IrbWriter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_model import H, N, W, build_resnet_like, make_params  # noqa: E402

CLI = [sys.executable, "-m", "irnet_infer.cli"]


def run_cli(cmd, *args):
    return subprocess.run(list(cmd) + [str(a) for a in args], capture_output=True, text=True, timeout=600)


def parse_outputs(stdout):
    """{'checksum': float, 'top5': [[index, ...] per sample]} of the first output."""
    m = re.search(r"checksum sum=(-?[\d.]+) abs_sum=([\d.]+)", stdout)
    assert m, stdout
    top = [[int(t.split(":")[0]) for t in line.split()]
           for line in re.findall(r"sample \d+ top-\d+:(.*)", stdout)]
    return {"sum": float(m.group(1)), "abs_sum": float(m.group(2)), "top5": top}


def check_against_engine(cmd, workdir):
    """Runs `cmd` (an irnet-run command prefix) on a fresh model and input and
    compares its printed checksum and top-5 with the Python engine."""
    path = os.path.join(workdir, "resnet_like.irb")
    build_resnet_like(path, make_params())
    x = np.random.default_rng(21).uniform(-1, 1, (N, 3, H, W)).astype(np.float32)
    np.save(os.path.join(workdir, "x.npy"), x)
    y = irnet_infer.Model(path).run(x)
    r = run_cli(cmd, path, "--input", os.path.join(workdir, "x.npy"), "--runs", 2, "--warmup", 1, "--profile")
    assert r.returncode == 0, r.stderr
    got = parse_outputs(r.stdout)
    assert abs(got["sum"] - float(y.astype(np.float64).sum())) < 1e-4
    assert abs(got["abs_sum"] - float(np.abs(y.astype(np.float64)).sum())) < 1e-4
    expected_top = [list(np.argsort(-row, kind="stable")[:5]) for row in y]
    assert got["top5"] == expected_top
    return r.stdout


@pytest.fixture()
def model_path(tmp_path):
    path = tmp_path / "m.irb"
    build_resnet_like(path, make_params())
    return path


def test_irnet_run_matches_engine(tmp_path):
    out = check_against_engine(CLI, str(tmp_path))
    assert re.search(r"latency over 2 runs \(after 1 warmup\): median [\d.]+ ms, min [\d.]+ ms, max", out)
    # --profile: the model's kernel of every family, one line per layer with its kernels, then the total.
    families = re.search(r"^kernels:(.*)$", out, re.M).group(1).split()
    assert [f.split("=")[0] for f in families] == ["bitpack", "bgemm", "sgemm", "bconv_epilogue", "phase_conv",
                                                    "pool", "crc32"]
    for name in ("stem", "b1", "b2", "b3", "fc", "log_softmax"):
        assert re.search(rf"^\d+\s+{re.escape(name)}\s", out, re.M), name
    assert re.search(r"^\d+\s+b1\s+BinaryConv2d\s+bgemm_\S+\+bconv_epilogue_\S+\s", out, re.M)
    assert "sum of layer medians" in out


def test_irnet_run_default_input_and_float64(model_path, tmp_path):
    r1 = run_cli(CLI, model_path, "--runs", 1, "--threads", 2)
    assert r1.returncode == 0, r1.stderr
    assert "pseudo-random" in r1.stdout
    x = np.random.default_rng(3).uniform(-1, 1, (N, 3, H, W))
    np.save(tmp_path / "x64.npy", x)
    np.save(tmp_path / "x32.npy", x.astype(np.float32))
    a = run_cli(CLI, model_path, "--input", tmp_path / "x64.npy", "--runs", 1)
    b = run_cli(CLI, model_path, "--input", tmp_path / "x32.npy", "--runs", 1)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert parse_outputs(a.stdout) == parse_outputs(b.stdout)


def test_irnet_run_errors(model_path, tmp_path):
    cases = []
    np.save(tmp_path / "int.npy", np.zeros((N, 3, H, W), np.int32))
    cases.append((["--input", tmp_path / "int.npy"], 1, "dtype must be float32 or float64"))
    np.save(tmp_path / "shape.npy", np.zeros((1, 3, H, W), np.float32))
    cases.append((["--input", tmp_path / "shape.npy"], 1, "shape [1, 3, 8, 8] but model input 'input' needs [2, 3, 8, 8]"))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.zeros((N, 3, H, W), np.float32)))
    cases.append((["--input", tmp_path / "fortran.npy"], 1, "fortran_order"))
    np.save(tmp_path / "short.npy", np.zeros((N, 3, H, W), np.float32))
    (tmp_path / "short.npy").write_bytes((tmp_path / "short.npy").read_bytes()[:-4])
    cases.append((["--input", tmp_path / "short.npy"], 1, "data has 1532 bytes, shape (2, 3, 8, 8) needs 384 values of 4 bytes"))
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    cases.append((["--input", tmp_path / "junk.npy"], 1, "not a .npy file"))
    cases.append((["--input", tmp_path / "missing.npy"], 1, "cannot open"))
    cases.append((["--threads", "0"], 2, "--threads needs an integer in [1, 256], got '0'"))
    cases.append((["--bogus"], 2, "unknown option '--bogus'"))
    for args, code, message in cases:
        r = run_cli(CLI, model_path, *args)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert message in r.stderr, (args, r.stderr)
    r = run_cli(CLI, tmp_path / "nope.irb")
    assert r.returncode == 1 and "cannot open model file" in r.stderr
    blob = bytearray(model_path.read_bytes())
    blob[100] ^= 0xFF
    (tmp_path / "bad.irb").write_bytes(bytes(blob))
    r = run_cli(CLI, tmp_path / "bad.irb")
    assert r.returncode == 1 and "crc32 mismatch" in r.stderr


def test_cli_reports_missing_binary(monkeypatch, capsys):
    from irnet_infer import cli
    monkeypatch.setattr(cli, "find_irnet_run", lambda: None)
    assert cli.run_main(["x.irb"]) == 1
    assert "native binary is not installed" in capsys.readouterr().err


# --- engine errors through the Python API ----------------------------------

def _refix(blob):
    blob = bytearray(blob)
    struct.pack_into("<I", blob, len(blob) - 8, zlib.crc32(bytes(blob[:-8])))
    return bytes(blob)


def test_model_errors(model_path, tmp_path):
    assert issubclass(irnet_infer.ModelError, ValueError)
    blob = model_path.read_bytes()
    bad = tmp_path / "bad.irb"
    bad.write_bytes(blob[:-1])
    with pytest.raises(irnet_infer.ModelError, match="file_size"):
        irnet_infer.Model(bad)
    newer = bytearray(blob)
    struct.pack_into("<I", newer, 8, 7)
    bad.write_bytes(_refix(newer))
    with pytest.raises(irnet_infer.ModelError, match=r"model format version 7 is newer than this irnet"):
        irnet_infer.Model(bad)
    with pytest.raises(FileNotFoundError):
        irnet_infer.Model(tmp_path / "missing.irb")
    with pytest.raises(irnet_infer.ModelError, match=r"threads must be in \[1, 256\], got 0"):
        irnet_infer.Model(model_path, threads=0)
    with pytest.raises(TypeError):
        irnet_infer.Model(model_path, threads="2")


def test_unknown_op_and_bad_shapes(tmp_path):
    w = IrbWriter()
    x = w.add_tensor("x", "f32", [1, 4])
    y = w.add_tensor("y", "f32", [1, 4])
    w.add_node("Swish", "act0", [x], [y])
    w.set_io([x], [y])
    w.save(tmp_path / "u.irb")
    with pytest.raises(irnet_infer.ModelError, match=r"unknown op 'Swish' in node 'act0'.*known ops: .*BinaryConv2d"):
        irnet_infer.Model(tmp_path / "u.irb")
    w = IrbWriter()
    x = w.add_tensor("x", "f32", [1, 4])
    y = w.add_tensor("y", "bits", [1, 5])
    z = w.add_tensor("z", "f32", [1, 4])
    w.add_node("SignPack", "s", [x], [y])
    w.add_node("Relu", "r", [x], [z])
    w.set_io([x], [z])
    w.save(tmp_path / "s.irb")
    with pytest.raises(irnet_infer.ModelError, match=r"node 's' \(SignPack\): output 0 'y' is declared bits \[1, 5\] but the inputs give bits \[1, 4\]"):
        irnet_infer.Model(tmp_path / "s.irb")


def test_kernel_info():
    k = irnet_infer.kernels()
    assert set(k) == {"bitpack", "bgemm", "sgemm", "bconv_epilogue", "phase_conv", "pool", "crc32"}
    for family, variants in k.items():
        assert sum(v["selected"] for v in variants) == 1
        assert irnet_infer.selected_kernel(family) in [v["name"] for v in variants]
    assert irnet_infer.cpu_description()
    with pytest.raises(irnet_infer.ModelError):
        irnet_infer.force_kernel("bgemm", "no_such_kernel")
    assert irnet_infer.__version__ == "0.1.0"


def test_forced_kernels_give_identical_results(model_path):
    x = np.random.default_rng(4).uniform(-1, 1, (N, 3, H, W)).astype(np.float32)
    default = irnet_infer.Model(model_path).run(x)
    try:
        irnet_infer.force_kernel("bgemm", "bgemm_ref")
        irnet_infer.force_kernel("bitpack", "pack_signs_ref")
        forced = irnet_infer.Model(model_path).run(x)
    finally:
        irnet_infer.force_kernel("bgemm", "auto")
        irnet_infer.force_kernel("bitpack", "auto")
    np.testing.assert_array_equal(forced, default)


def main(argv):
    if len(argv) != 2 or argv[0] != "--cross":
        sys.stderr.write(__doc__)
        return 2
    cmd = shlex.split(argv[1])
    with tempfile.TemporaryDirectory() as d:
        out = check_against_engine(cmd, d)
    print(f"irnet-run ({argv[1]}) matches the native engine")
    print("\n".join(line for line in out.splitlines() if "checksum" in line or "latency" in line))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
