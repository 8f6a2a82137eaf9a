#!/usr/bin/env python3
"""Run the bundled digits IR-Net through irnet-infer and compare it with onnxruntime.

    .venv/bin/python tools/digits_demo.py --irb out/irnet_digits.irb [--out out]

(scripts/demo.sh converts the models first, then calls this.)  Runs the whole
fixed test split (360 images, models/digits_test.npz) one image at a time
through ``irnet_infer.Model``, through onnxruntime on the same ONNX file, and
the float32 twin through onnxruntime (and irnet-infer with --float-irb); prints
accuracies, prediction agreement, model sizes, latency per image and a
per-layer profile, and writes out/report.md and out/report.png (sample digits
with predictions + confusion matrix).

Needs numpy and the built engine; onnxruntime and matplotlib are optional
(``pip install '.[train]'``): without them their parts are skipped with a note.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.irnet_torch.data import TRAIN_EXTRA_HINT, load_test_split, preprocess  # noqa: E402

MODELS_DIR = os.path.join(ROOT, "models")
BINARY_ONNX = os.path.join(MODELS_DIR, "irnet_digits.onnx")
FLOAT_ONNX = os.path.join(MODELS_DIR, "float_digits.onnx")
TEST_SPLIT = os.path.join(MODELS_DIR, "digits_test.npz")


class Predictions:
    """Per-image outputs of one backend over the test split."""

    def __init__(self, name: str, logits: np.ndarray, seconds_per_image: np.ndarray):
        self.name = name
        self.logits = logits
        self.labels = logits.argmax(axis=1)
        self.seconds_per_image = seconds_per_image

    def accuracy(self, truth: np.ndarray) -> float:
        return float((self.labels == truth).mean())

    def median_ms(self) -> float:
        return 1e3 * float(np.median(self.seconds_per_image))


def _run_each(name: str, run_one, images: np.ndarray) -> Predictions:
    """Run ``run_one`` on every image (batch 1), timing each call."""
    run_one(images[:1])  # warm-up (first-call allocations)
    outputs, times = [], []
    for i in range(len(images)):
        start = time.perf_counter()
        y = run_one(images[i:i + 1])
        times.append(time.perf_counter() - start)
        outputs.append(np.asarray(y, dtype=np.float32).reshape(-1))
    return Predictions(name, np.stack(outputs), np.asarray(times))


def run_engine(irb_path: str, images: np.ndarray, threads: int = 1,
               name: str = "irnet-infer") -> Predictions:
    import irnet_infer
    if not hasattr(irnet_infer, "Model"):
        raise ImportError("irnet_infer.Model is not available: the compiled engine is missing")
    model = irnet_infer.Model(irb_path, threads=threads)

    def run_one(x):
        y = model.run(x)
        return y[0] if isinstance(y, (list, tuple)) else y
    return _run_each(name, run_one, images)


def run_onnxruntime(onnx_path: str, images: np.ndarray, name: str) -> Predictions:
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return _run_each(name, lambda x: session.run(None, {input_name: x})[0], images)


def layer_profile(irb_path: str, images: np.ndarray, threads: int = 1) -> list[str]:
    """Markdown lines: median wall time of every engine layer over ``images`` (batch 1)."""
    import irnet_infer
    model = irnet_infer.Model(irb_path, threads=threads)
    seconds = np.array([model.profile(images[i:i + 1])[1] for i in range(len(images))])
    median = np.median(seconds, axis=0)
    lines = [f"Per layer (median over {len(images)} images; CPU: {irnet_infer.cpu_description()}):",
             "", "| layer | op | kernel | binary MACs | float MACs | time |", "|---|---|---|---|---|---|"]
    for layer, t in zip(model.summary_dict()["layers"], median):
        lines.append(f"| `{layer['name']}` | {layer['op']} | {layer['kernel']} | "
                     f"{layer['binary_macs']:,} | {layer['float_macs']:,} | {1e6 * t:.1f} µs |")
    lines.append(f"| total | | | | | {1e6 * median.sum():.1f} µs |")
    return lines


def agreement(a: Predictions, b: Predictions) -> float:
    return float((a.labels == b.labels).mean())


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    return matrix


def sample_caption(n_wrong_shown: int, n_wrong: int, n_shown: int) -> str:
    """What the sample grid shows, in order: the misclassified digits first."""
    if n_wrong == 0:
        return f"Sample digits: {n_shown} test images, all classified correctly (green)."
    which = f"the {n_wrong}" if n_wrong_shown == n_wrong else f"{n_wrong_shown} of the {n_wrong}"
    return (f"Sample digits: {which} misclassified test image{'s' if n_wrong > 1 else ''} first (red), "
            f"then {n_shown - n_wrong_shown} correctly classified ones (green).")


def write_figure(path: str, raw_images: np.ndarray, truth: np.ndarray, engine: Predictions):
    """Sample grid + confusion matrix; returns the grid's caption, or None without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"note: matplotlib is not installed, {path} not written ({TRAIN_EXTRA_HINT})")
        return None
    wrong = np.flatnonzero(engine.labels != truth)
    right = np.flatnonzero(engine.labels == truth)
    shown = np.concatenate([wrong[:4], right[:16 - min(len(wrong), 4)]])
    caption = sample_caption(min(len(wrong), 4), len(wrong), len(shown))
    fig = plt.figure(figsize=(11, 5.2))
    grid = fig.add_gridspec(4, 8)
    for slot, idx in enumerate(shown):
        ax = fig.add_subplot(grid[slot // 4, slot % 4])
        ax.imshow(raw_images[idx], cmap="gray_r", vmin=0, vmax=16)
        ok = engine.labels[idx] == truth[idx]
        ax.set_title(f"pred {engine.labels[idx]} (true {truth[idx]})", fontsize=8,
                     color="green" if ok else "red")
        ax.axis("off")
    ax = fig.add_subplot(grid[:, 4:])
    matrix = confusion_matrix(truth, engine.labels)
    ax.imshow(matrix, cmap="Blues")
    for (r, c), v in np.ndenumerate(matrix):
        if v:
            ax.text(c, r, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > matrix.max() / 2 else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"irnet-infer confusion matrix, accuracy {100 * engine.accuracy(truth):.2f}%")
    fig.suptitle("IR-Net 1W/1A digits model on irnet-infer (test split, 360 images)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.text(0.01, 0.015, caption, fontsize=9)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return caption


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--irb", required=True, help="converted binary model (.irb)")
    parser.add_argument("--onnx", default=BINARY_ONNX, help="the ONNX file it was converted from")
    parser.add_argument("--float-onnx", default=FLOAT_ONNX, help="the float32 twin (ONNX)")
    parser.add_argument("--float-irb", help="the float32 twin converted to .irb (optional)")
    parser.add_argument("--out", default=os.path.join(ROOT, "out"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    raw, truth = load_test_split(TEST_SPLIT)
    images = preprocess(raw)
    try:
        engine = run_engine(args.irb, images, args.threads)
        twin_engine = None if args.float_irb is None else \
            run_engine(args.float_irb, images, args.threads, "float32 twin (irnet-infer)")
    except ImportError as exc:
        print(f"error: {exc} (scripts/bootstrap.sh builds and installs irnet-infer)", file=sys.stderr)
        return 2
    try:
        reference = run_onnxruntime(args.onnx, images, "onnxruntime (same ONNX)")
        twin = run_onnxruntime(args.float_onnx, images, "float32 twin (onnxruntime)")
        others = [reference, twin]
    except ImportError:
        print(f"note: onnxruntime is not installed, comparison skipped ({TRAIN_EXTRA_HINT})")
        reference, others = None, []

    others += [] if twin_engine is None else [twin_engine]
    rows = [(p.name, p.accuracy(truth), p.median_ms()) for p in [engine] + others]
    lines = ["# irnet-infer digits demo", "",
             f"Test split: {len(truth)} images (sklearn digits, fixed seed), batch 1, "
             f"{args.threads} thread(s).", "",
             "| backend | accuracy | median latency / image |", "|---|---|---|"]
    lines += [f"| {n} | {100 * a:.2f} % | {ms:.3f} ms |" for n, a, ms in rows]
    sizes = [("ONNX (binary model)", os.path.getsize(args.onnx)),
             (".irb (converted)", os.path.getsize(args.irb)),
             ("ONNX (float32 twin)", os.path.getsize(args.float_onnx))]
    if args.float_irb is not None:
        sizes.append((".irb (float32 twin)", os.path.getsize(args.float_irb)))
    lines += ["", "| file | size |", "|---|---|"]
    lines += [f"| {n} | {b / 1024:.1f} KiB |" for n, b in sizes]
    if reference is not None:
        disagree = np.flatnonzero(engine.labels != reference.labels)
        lines += ["", f"Prediction agreement irnet-infer vs onnxruntime: "
                      f"{100 * agreement(engine, reference):.2f} % "
                      f"({len(disagree)} of {len(truth)} images differ); max |logit difference| "
                      f"{np.abs(engine.logits - reference.logits).max():.3g}."]
    lines += [""] + layer_profile(args.irb, images, args.threads)
    os.makedirs(args.out, exist_ok=True)
    png = os.path.join(args.out, "report.png")
    caption = write_figure(png, raw, truth, engine)
    if caption is not None:
        lines += ["", "![sample predictions and confusion matrix](report.png)", "",
                  caption + " Right: confusion matrix."]
    report = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report)
    print(report)
    print(f"wrote {os.path.join(args.out, 'report.md')}" + (f" and {png}" if caption is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
