"""The bundled digits IR-Net, converted and run by irnet-infer on the whole test split.

The engine must reproduce onnxruntime: >= 99.5 % identical predictions and an
accuracy within 0.3 points.  Also checks that the bundled files are what
docs/training.md says they are.
"""
import json
import os
import sys

import numpy as np
import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, ROOT)

from tools import digits_demo as demo  # noqa: E402
from tools.irnet_torch.data import load_test_split, preprocess  # noqa: E402


@pytest.fixture(scope="module")
def split():
    raw, labels = load_test_split(demo.TEST_SPLIT)
    return preprocess(raw), labels


@pytest.fixture(scope="module")
def onnxruntime_binary(split):
    return demo.run_onnxruntime(demo.BINARY_ONNX, split[0], "onnxruntime")


def test_bundled_files_are_small_and_reproduce_their_recorded_accuracy(split, onnxruntime_binary):
    images, labels = split
    assert images.shape == (360, 1, 16, 16) and labels.shape == (360,)
    assert np.array_equal(np.bincount(labels, minlength=10) > 30, np.ones(10, bool))
    with open(os.path.join(demo.MODELS_DIR, "digits_models.json")) as f:
        recorded = json.load(f)["models"]
    for name, path in (("irnet_digits", demo.BINARY_ONNX), ("float_digits", demo.FLOAT_ONNX)):
        assert os.path.getsize(path) < 1_000_000
        pred = onnxruntime_binary if name == "irnet_digits" else \
            demo.run_onnxruntime(path, images, name)
        assert pred.accuracy(labels) == pytest.approx(recorded[name]["test_acc"], abs=1e-9), name


def test_engine_matches_onnxruntime_on_the_whole_test_split(tmp_path, split, onnxruntime_binary):
    from irnet_infer.convert import convert
    images, labels = split
    irb = str(tmp_path / "irnet_digits.irb")
    convert(demo.BINARY_ONNX, irb)
    engine = demo.run_engine(irb, images)
    assert engine.logits.shape == (360, 10)
    agree = demo.agreement(engine, onnxruntime_binary)
    assert agree >= 0.995, f"engine and onnxruntime agree on only {100 * agree:.2f} % of images"
    gap = 100 * abs(engine.accuracy(labels) - onnxruntime_binary.accuracy(labels))
    assert gap <= 0.3, f"accuracy differs by {gap:.2f} points"
