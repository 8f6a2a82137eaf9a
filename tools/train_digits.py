#!/usr/bin/env python3
"""Train the bundled digits models and export them to ONNX (legacy exporter, opset 13).

    .venv/bin/python tools/train_digits.py [--epochs 40] [--seed 0] [--out models]

Writes to --out:
  irnet_digits.onnx   IR-Net 1W/1A Bi-Real ResNet (FP 3x3 stem, 6 binary 3x3 convs 16-32-64)
  float_digits.onnx   its float32 twin (same layout, float convs)
  digits_test.npz     the fixed test split (uint8 8x8 images + labels) for the demo and tests
  digits_models.json  accuracies, seeds, command and versions
Each model trains in about a minute or two on one CPU thread.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tools.irnet_torch.data import TRAIN_EXTRA_HINT, load_split, preprocess, save_test_split  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--out", default="models")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        import torch
        from tools.irnet_torch.export import export
        from tools.irnet_torch.models import DIGITS_INPUT, birealnet_digits, floatnet_digits
        from tools.irnet_torch.train import TrainConfig, train
        x_train8, y_train, x_test8, y_test = load_split()
    except ImportError as exc:
        print(f"error: {exc} ({TRAIN_EXTRA_HINT})", file=sys.stderr)
        return 2

    x_train, x_test = preprocess(x_train8), preprocess(x_test8)
    cfg = TrainConfig(epochs=args.epochs, seed=args.seed, lr=args.lr, threads=args.threads)
    summary = {"command": "python tools/train_digits.py " + " ".join(argv or sys.argv[1:]),
               "epochs": args.epochs, "seed": args.seed, "lr": args.lr,
               "train_images": len(y_train), "test_images": len(y_test),
               "torch": torch.__version__, "python": platform.python_version(), "models": {}}
    for name, build in (("irnet_digits", birealnet_digits), ("float_digits", floatnet_digits)):
        torch.manual_seed(args.seed)
        model = build()
        result = train(model, x_train, y_train, x_test, y_test, cfg, label=name)
        path = os.path.join(args.out, f"{name}.onnx")
        export(model, path, DIGITS_INPUT, dynamo=False, opset=13,
               example=torch.from_numpy(x_test))
        result["onnx_bytes"] = os.path.getsize(path)
        summary["models"][name] = result
        print(f"{name}: test accuracy {100 * result['test_acc']:.2f}% "
              f"(train {100 * result['train_acc']:.2f}%), {result['seconds']:.0f}s, "
              f"{path} {result['onnx_bytes'] / 1e3:.0f} kB")
    save_test_split(os.path.join(args.out, "digits_test.npz"), x_test8, y_test)
    with open(os.path.join(args.out, "digits_models.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
