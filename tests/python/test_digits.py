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
from tools.irnet_torch.data import load_split, load_test_split, preprocess  # noqa: E402


@pytest.fixture(scope="module")
def split():
    raw, labels = load_test_split(demo.TEST_SPLIT)
    return preprocess(raw), labels


@pytest.fixture(scope="module")
def onnxruntime_binary(split):
    return demo.run_onnxruntime(demo.BINARY_ONNX, split[0], "onnxruntime")


def test_preprocess_upsamples_and_maps_to_unit_range():
    img = np.arange(64, dtype=np.uint8).reshape(1, 8, 8) % 17
    x = preprocess(img)
    assert x.shape == (1, 1, 16, 16) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, 0, ::2, ::2], img[0] / 8.0 - 1.0)
    np.testing.assert_array_equal(x[0, 0, 1::2, 1::2], x[0, 0, ::2, ::2])
    with pytest.raises(ValueError, match=r"\[N, 8, 8\]"):
        preprocess(np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match="0..16"):
        preprocess(np.full((1, 8, 8), 17))


@pytest.mark.torch  # the train extra: load_split needs scikit-learn
def test_split_is_fixed_stratified_and_matches_the_bundled_test_set():
    x_train, y_train, x_test, y_test = load_split()
    assert (len(y_train), len(y_test)) == (1437, 360)
    bundled_x, bundled_y = load_test_split(demo.TEST_SPLIT)
    np.testing.assert_array_equal(x_test, bundled_x)
    np.testing.assert_array_equal(y_test, bundled_y)
    # stratified: every class holds 20 % (+-1 image) of its examples in the test split
    per_class = np.bincount(y_test, minlength=10)
    total = per_class + np.bincount(y_train, minlength=10)
    assert np.all(np.abs(per_class - total * 360 / 1797) < 1)


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


def test_sample_grid_caption_says_the_misclassified_digits_come_first():
    assert demo.sample_caption(3, 3, 16) == ("Sample digits: the 3 misclassified test images first (red), "
                                             "then 13 correctly classified ones (green).")
    assert demo.sample_caption(4, 9, 16).startswith("Sample digits: 4 of the 9 misclassified test images first")
    assert "the 1 misclassified test image first" in demo.sample_caption(1, 1, 16)
    assert "all classified correctly" in demo.sample_caption(0, 0, 16)


def test_engine_runs_the_float_twin_like_onnxruntime(tmp_path, split):
    from irnet_infer.convert import convert
    images, labels = split
    irb = str(tmp_path / "float_digits.irb")
    convert(demo.FLOAT_ONNX, irb)
    engine = demo.run_engine(irb, images)
    reference = demo.run_onnxruntime(demo.FLOAT_ONNX, images, "onnxruntime")
    assert demo.agreement(engine, reference) >= 0.995
    np.testing.assert_allclose(engine.logits, reference.logits, atol=1e-3)
