"""Export IR-Net PyTorch models to ONNX with either PyTorch exporter.

    python -m tools.irnet_torch.export --model resnet20 --out resnet20.onnx [--dynamo] [--opset 13]

* legacy exporter (``dynamo=False``, opset 11-17): binary weights stay latent
  and are recomputed by the Libra-PB subgraph (ReduceMean, Sub, Div, Sqrt, Abs,
  Log, Round, Pow, Sign, Mul); FP convs get their BatchNorm folded in.
* dynamo exporter (``dynamo=True``, opset 18): folds constant subgraphs, so small
  binary convs arrive as ``Conv(Sign(x), W = +-alpha)``.

Both exports are checked against PyTorch with onnxruntime when it is installed
(``verify=True``), sample by sample, a sample with a binary activation's input
within rounding of 0 judged apart (tools/sign_ties.py).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

# .layers first: without torch it raises an ImportError that names the extra to install
from .layers import ABLATION_CONFIGS, IRNET, BinaryConfig
from .models import MODELS, build_model

import torch
import torch.nn as nn

from tools.sign_ties import MAX_TIE_SHARE, compare, sign_ties

__all__ = ["export", "verify_with_onnxruntime", "randomize_batchnorm", "main"]

# export()'s check: this many random samples, of which up to EXPORT_TIE_SHARE may differ at a
# sign tie. At full size ties are common and legitimate (ReActNet-A at 224x224 flips a sign
# between PyTorch and onnxruntime on a fair share of random inputs); an export that computes
# something else differs on every sample.
VERIFY_SAMPLES = 4
EXPORT_TIE_SHARE = 0.75


def randomize_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm random affine parameters and running statistics.

    A freshly initialized model has gamma = 1, beta = 0, mean = 0, var = 1, so a
    binary conv whose +-1 dot product is 0 yields an output of exactly 0, and
    sign(0) then depends on float rounding (onnxruntime fuses BN into the conv
    and gets +-1e-7).  Random statistics, as in a trained model, make exports
    of random-weight models numerically stable and exercise BN folding.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.weight.copy_(0.5 + torch.rand(n, generator=gen))
                m.bias.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_mean.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
    return model


def export(model: nn.Module, path: str, input_shape, dynamo: bool = False, opset: int | None = None,
           verify: bool = True, example: torch.Tensor | None = None) -> str:
    """Write ``model`` (switched to eval mode) as ONNX to ``path`` and return the path.

    ``opset`` defaults to 13 for the legacy exporter and 18 for dynamo.
    With ``verify`` the file is run in onnxruntime on ``example`` (default:
    VERIFY_SAMPLES random samples; the batch dimension of the file is that of
    ``input_shape``) and must match PyTorch within 1e-4 (max abs, relative to
    the output's magnitude when that exceeds 1) on every sample without a sign
    tie and on at least a quarter of all samples, else ``RuntimeError``
    (``verify_with_onnxruntime``).
    """
    if opset is None:
        opset = 18 if dynamo else 13
    model.eval()
    trace_input = torch.randn(*input_shape)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter deprecation chatter
        if dynamo:
            program = torch.onnx.export(model, (trace_input,), dynamo=True, opset_version=opset,
                                        input_names=["input"], output_names=["output"],
                                        verbose=False)
            program.save(path)
        else:
            torch.onnx.export(model, (trace_input,), path, dynamo=False, opset_version=opset,
                              input_names=["input"], output_names=["output"],
                              do_constant_folding=True)
    if verify:
        if example is None:  # the trace input and more from a generator of their own, VERIFY_SAMPLES in all
            batch = input_shape[0]
            more = -(-VERIFY_SAMPLES // batch) * batch - batch
            example = torch.cat([trace_input, torch.randn(more, *input_shape[1:],
                                                          generator=torch.Generator().manual_seed(0))])
        verify_with_onnxruntime(model, path, example, max_tie_share=EXPORT_TIE_SHARE)
    return path


def verify_with_onnxruntime(model: nn.Module, path: str, example: torch.Tensor,
                            tolerance: float = 1e-4, max_tie_share: float = MAX_TIE_SHARE) -> float:
    """Max |PyTorch - onnxruntime| on ``example``, sample by sample (tools/sign_ties.py):
    raises OutputMismatch (a RuntimeError) where a sample differs by more than
    ``tolerance * max(1, max |PyTorch output|)`` or in its top-1 class without a sign
    input within rounding of 0 (a tie), or where more than ``max_tie_share`` of the
    samples differ at ties. Samples that differ at a tie are reported on stderr and left
    out of the returned maximum."""
    try:
        import onnxruntime as ort
    except ImportError:
        print("note: onnxruntime not installed, export not verified", file=sys.stderr)
        return float("nan")
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    batch = session.get_inputs()[0].shape[0]
    step = batch if isinstance(batch, int) else len(example)   # static batch: run in chunks
    x = example.numpy()
    got = np.concatenate([session.run(None, {name: x[i:i + step]})[0] for i in range(0, len(x), step)])
    with torch.no_grad():
        want = model(example).numpy()
    agreement = compare(got, want, sign_ties(path, x), tolerance)
    agreement.check(f"{path}: onnxruntime against PyTorch", max_tie_share)
    at_tie = agreement.at_tie
    if at_tie.any():
        print(f"note: {path}: onnxruntime differs from PyTorch in {int(at_tie.sum())} of {len(x)} samples, "
              "each with a sign input within rounding of 0 (either sign is right there)", file=sys.stderr)
    return float(agreement.max_abs[~at_tie].max())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.irnet_torch.export",
                                     description="Export an IR-Net model (random or trained weights) to ONNX.")
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--out", required=True, help="output .onnx path")
    parser.add_argument("--dynamo", action="store_true", help="use the dynamo exporter (opset 18)")
    parser.add_argument("--opset", type=int, default=None, help="default: 13 legacy, 18 dynamo")
    parser.add_argument("--variant", default="ir-net", choices=sorted(ABLATION_CONFIGS),
                        help="binarization variant (default ir-net)")
    parser.add_argument("--w1a32", action="store_true", help="1W/32A: real-valued activations, ReLU")
    parser.add_argument("--weights", help="state_dict (.pt) to load; default: random weights "
                        "and random BatchNorm statistics")
    parser.add_argument("--input-shape", help="NCHW, e.g. 1,3,32,32 (default: the model's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    base = ABLATION_CONFIGS[args.variant]
    config = BinaryConfig(libra=base.libra, ede=base.ede, binary_activations=not args.w1a32,
                          tmin=IRNET.tmin, tmax=IRNET.tmax)
    model, shape = build_model(args.model, config)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu"))
    else:
        randomize_batchnorm(model, args.seed)
    if args.input_shape:
        shape = tuple(int(d) for d in args.input_shape.split(","))
    export(model, args.out, shape, dynamo=args.dynamo, opset=args.opset)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB, "
          f"{'dynamo' if args.dynamo else 'legacy'} exporter, input {list(shape)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
