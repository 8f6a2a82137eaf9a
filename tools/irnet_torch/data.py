"""The digits data set (scikit-learn's ``load_digits``) and its fixed split.

1,797 grayscale 8x8 images (pixel values 0..16) of the digits 0-9.  The split
is fixed: a stratified permutation with seed ``SPLIT_SEED`` puts 1,437 images
in the training set and 360 in the test set.

Model input: 1x16x16 float32 in [-1, 1], the 8x8 image upsampled 2x by pixel
repetition (nearest neighbour) and mapped ``v / 16 * 2 - 1``.  The test split
is also shipped as ``models/digits_test.npz`` (raw uint8 8x8 images + labels)
so the demo and the CI test need neither scikit-learn nor torch.

Only numpy is imported at module level; scikit-learn is needed by ``load_split``.
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["SPLIT_SEED", "TEST_SIZE", "UPSAMPLE", "preprocess", "load_split", "save_test_split",
           "load_test_split", "TRAIN_EXTRA_HINT"]

SPLIT_SEED = 2020
TEST_SIZE = 360
UPSAMPLE = 2
TRAIN_EXTRA_HINT = "install the training extra: pip install '.[train]'"


def preprocess(images_8x8: np.ndarray) -> np.ndarray:
    """uint8/float images [N, 8, 8] with values 0..16 -> float32 [N, 1, 16, 16] in [-1, 1]."""
    images = np.asarray(images_8x8, dtype=np.float32)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"expected digit images of shape [N, 8, 8], got {list(images.shape)}")
    if images.size and (images.min() < 0 or images.max() > 16):
        raise ValueError("digit pixel values must lie in 0..16")
    big = images.repeat(UPSAMPLE, axis=1).repeat(UPSAMPLE, axis=2)
    return (big / 16.0 * 2.0 - 1.0)[:, None, :, :].astype(np.float32)


def _stratified_test_indices(labels: np.ndarray, test_size: int, seed: int) -> np.ndarray:
    """``test_size`` indices drawn per class in proportion to class frequency."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(counts * test_size / len(labels)).astype(int)
    # hand the remaining slots to the classes with the largest fractional parts
    remainder = counts * test_size / len(labels) - quota
    for c in np.argsort(-remainder, kind="stable")[: test_size - quota.sum()]:
        quota[c] += 1
    picked = [rng.permutation(np.flatnonzero(labels == c))[:q] for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(picked))


def load_split():
    """(x_train uint8 [1437, 8, 8], y_train, x_test uint8 [360, 8, 8], y_test), always the same."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(f"scikit-learn is needed for the digits data set; {TRAIN_EXTRA_HINT}") from exc
    digits = load_digits()
    images = digits.images.astype(np.uint8)
    labels = digits.target.astype(np.int64)
    test = _stratified_test_indices(labels, TEST_SIZE, SPLIT_SEED)
    train = np.setdiff1d(np.arange(len(labels)), test)
    return images[train], labels[train], images[test], labels[test]


def save_test_split(path: str, images: np.ndarray, labels: np.ndarray) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    np.savez_compressed(path, images=images.astype(np.uint8), labels=labels.astype(np.int64),
                        split_seed=np.int64(SPLIT_SEED))


def load_test_split(path: str):
    """(images uint8 [N, 8, 8], labels int64 [N]) from a file written by ``save_test_split``."""
    with np.load(path) as f:
        images, labels = f["images"], f["labels"]
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (8, 8):
        raise ValueError(f"{path}: not a digits split (images {list(images.shape)}, "
                         f"labels {list(labels.shape)})")
    return images, labels
