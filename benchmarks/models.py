"""The models of the benchmarks, built with the project's own tools.

The paper's Table 5 (build):
    FP        float32 ResNet-18 (ImageNet layout, ReLU)         -> resnet18_fp32.{onnx,irb}
    IR-Net    Bi-Real ResNet-18 1W/1A with bit-shift scales    -> resnet18_irnet.{onnx,irb}
    no-shift  the same file converted with --no-bit-shift      -> resnet18_irnet_noshift.irb
ReActNet-A (build_network)                                      -> reactnet_a.{onnx,irb}
Bi-Real ResNet-18 (build_network): Bi-Real Net's own layout    -> bireal_resnet18.{onnx,irb}
    (no activation between blocks, real-valued per-channel weight scales,
    AvgPool + float 1x1 conv downsampling; tools/irnet_torch/field.py)

No trained ImageNet weights are available offline, so weights are seeded random
draws. The binary convs get heavy-tailed latent weights, as training produces,
so that the bit-shift scales take the values 1/2 and 1/4 and the shifts are
really exercised (random Gaussian init gives s = 1 everywhere); timing and size
do not depend on the values. The ONNX files are cached under the work directory
(exported again when the weights, tools/irnet_torch or PyTorch change); every run
converts them with the converter it has.
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass

INPUT_SHAPE = (1, 3, 224, 224)
TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")


@dataclass
class ModelFiles:
    key: str          # "fp32", "irnet", "irnet_noshift" or a key of NETWORKS
    onnx: str
    irb: str
    fp_params: int    # float32 parameters (paper's size accounting)
    binary_params: int
    binary_out_channels: int  # one bit-shift scale each


def _heavy_tailed_binary_weights(model, seed: int) -> None:
    from tools.irnet_torch.layers import BinaryConv2d, heavy_tailed_latent_weights

    # Student-t with 2 degrees of freedom: mean|Wn| of the standardized
    # weights falls well below 0.75, so round(log2(.)) gives -1 or -2.
    heavy_tailed_latent_weights([m for m in model.modules() if isinstance(m, BinaryConv2d)], seed)


def _export_key(model) -> str:
    """What an export depends on: the PyTorch version, the code that defines and exports
    the models (tools/irnet_torch, tools/sign_ties.py) and the model's weights and statistics."""
    import hashlib

    import torch

    digest = hashlib.sha256(torch.__version__.encode())
    for path in sorted(glob.glob(os.path.join(TOOLS, "irnet_torch", "*.py"))) + [os.path.join(TOOLS, "sign_ties.py")]:
        with open(path, "rb") as f:
            digest.update(f.read())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _exported(model, onnx: str) -> None:
    """`onnx` exported (legacy exporter, opset 13) unless the file there has the same
    _export_key. Written under .partial and renamed once onnxruntime agreed with PyTorch,
    its key beside it: a failed check leaves no file for the next run to take as cached."""
    from tools.irnet_torch.export import export

    key, key_file = _export_key(model), onnx + ".key"
    if os.path.exists(onnx) and os.path.exists(key_file):
        with open(key_file) as f:
            if f.read() == key:
                return
    partial = onnx + ".partial"
    try:
        export(model, partial, INPUT_SHAPE, dynamo=False, opset=13)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    os.replace(partial, onnx)
    with open(key_file, "w") as f:
        f.write(key)


def _exported_and_converted(model, work_dir: str, name: str) -> tuple[str, str]:
    """<work_dir>/<name>.onnx (_exported) and <name>.irb, converted by this run's converter."""
    from irnet_infer.convert import convert

    onnx, irb = os.path.join(work_dir, f"{name}.onnx"), os.path.join(work_dir, f"{name}.irb")
    _exported(model, onnx)
    convert(onnx, irb)
    return onnx, irb


def _param_split(model) -> tuple[int, int, int]:
    """(float parameters, binary weights, binary output channels) of a model."""
    from tools.irnet_torch.layers import BinaryConv2d
    from tools.irnet_torch.models import count_binary_weights, count_parameters
    from tools.irnet_torch.reactnet import ScaledSignConv2d

    total = count_parameters(model)
    binary = count_binary_weights(model)
    channels = sum(m.out_channels for m in model.modules() if isinstance(m, (BinaryConv2d, ScaledSignConv2d)))
    return total - binary, binary, channels


def build(work_dir: str, seed: int = 0) -> dict[str, ModelFiles]:
    """Exports (cached) and converts the three models; returns them by key."""
    import torch
    from irnet_infer.convert import convert
    from tools.irnet_torch.export import randomize_batchnorm
    from tools.irnet_torch.models import build_model

    os.makedirs(work_dir, exist_ok=True)
    torch.manual_seed(seed)
    out: dict[str, ModelFiles] = {}

    fp_model, _ = build_model("resnet18_float")
    randomize_batchnorm(fp_model, seed)
    fp_onnx, fp_irb = _exported_and_converted(fp_model, work_dir, "resnet18_fp32")
    out["fp32"] = ModelFiles("fp32", fp_onnx, fp_irb, *_param_split(fp_model))

    bin_model, _ = build_model("resnet18")
    randomize_batchnorm(bin_model, seed)
    _heavy_tailed_binary_weights(bin_model, seed)
    bin_onnx = os.path.join(work_dir, "resnet18_irnet.onnx")
    _exported(bin_model, bin_onnx)
    split = _param_split(bin_model)
    for key, bit_shift in (("irnet", True), ("irnet_noshift", False)):
        irb = os.path.join(work_dir, f"resnet18_{key}.irb")
        convert(bin_onnx, irb, bit_shift=bit_shift)
        out[key] = ModelFiles(key, bin_onnx, irb, *split)
    return out


# The binary networks beyond the paper's ResNet-18 (build_network): key -> (title, the module
# of tools/irnet_torch and the function there that builds the network for 1x3x224x224).
NETWORKS = {"reactnet_a": ("ReActNet-A", "reactnet", "reactnet_a"),
            "bireal_resnet18": ("Bi-Real ResNet-18", "field", "bireal_resnet18")}


def build_network(key: str, work_dir: str, seed: int = 0) -> ModelFiles:
    """A network of NETWORKS with trained-like random weights
    (tools/irnet_torch/reactnet.py randomize_like_trained: heavy-tailed binary latent
    weights, so the per-channel scales differ, BatchNorm statistics of the layers'
    actual inputs), exported with the legacy exporter (cached) and converted to
    <work_dir>/<key>.irb. Raises what the converter raises when it cannot convert it."""
    import importlib

    import torch
    from tools.irnet_torch.reactnet import randomize_like_trained

    _, module, function = NETWORKS[key]
    os.makedirs(work_dir, exist_ok=True)
    torch.manual_seed(seed)
    model = getattr(importlib.import_module(f"tools.irnet_torch.{module}"), function)()
    randomize_like_trained(model, seed)
    onnx, irb = _exported_and_converted(model, work_dir, key)
    return ModelFiles(key, onnx, irb, *_param_split(model))


def torch_fp_model(seed: int = 0):
    """The float model again (for peers that convert from PyTorch, e.g. pnnx → ncnn)."""
    import torch
    from tools.irnet_torch.export import randomize_batchnorm
    from tools.irnet_torch.models import build_model

    torch.manual_seed(seed)
    model, _ = build_model("resnet18_float")
    randomize_batchnorm(model, seed)
    return model.eval()
