"""The verdicts of tools/pi_check.py (scripts/test.sh pi), which runs in emulated roots: here,
that they can fail: a changed prediction or a logit off by more than 1e-5 fails the
comparison, and pip fetching or building numpy or onnx is caught in its output."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from tools import pi_check  # noqa: E402


@pytest.fixture()
def reference():
    return np.random.default_rng(5).standard_normal((360, 10)).astype(np.float32)


def test_identical_predictions_and_close_logits_pass(reference):
    emulated = reference + np.float32(3e-6)
    assert "0 predictions differ" in pi_check.compare_logits(reference, emulated, "armhf")


def test_a_logit_off_by_more_than_the_tolerance_fails(reference):
    emulated = reference.copy()
    emulated[7, 3] += 2e-5
    with pytest.raises(pi_check.CheckFailed, match="0 predictions differ.*max \\|logit difference\\| 2e-05"):
        pi_check.compare_logits(reference, emulated, "arm64")


def test_one_changed_prediction_fails(reference):
    emulated = reference.copy()
    row = emulated[11]
    row[np.argsort(row)[-2]] = row.max() + 1e-6  # the runner-up wins by less than the tolerance
    with pytest.raises(pi_check.CheckFailed, match="1 predictions differ"):
        pi_check.compare_logits(reference, emulated, "armhf")


def test_nan_logits_fail(reference):
    emulated = reference.copy()
    emulated[0, 0] = np.nan
    with pytest.raises(pi_check.CheckFailed):
        pi_check.compare_logits(reference, emulated, "armhf")


@pytest.mark.parametrize("line, forbidden", [
    ("Collecting numpy>=1.24", "numpy"),
    ("  Downloading onnx-1.17.0.tar.gz (12.2 MB)", "onnx"),
    ("Building wheel for numpy (pyproject.toml) ... -", "numpy"),
    ("Requirement already satisfied: numpy>=1.24 in /usr/lib/python3/dist-packages", None),
    ("Collecting onnxscript", None),
    ("Successfully installed irnet-infer-0.1.0 pytest-8.3.0", None),
])
def test_pip_fetching_numpy_or_onnx_is_caught(line, forbidden):
    found = [m[1] for m in pi_check.FORBIDDEN_FETCH.findall("Processing ./x.whl\n" + line + "\n")]
    assert found == ([forbidden] if forbidden else [])
