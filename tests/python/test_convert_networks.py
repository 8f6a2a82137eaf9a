"""irnet-convert on exported PyTorch IR-Net layers and whole networks.

Models come from tools/irnet_torch (the project's IR-Net layers and model
zoo), exported once per session with both PyTorch exporters at small input
sizes. Each .irb is run by the numpy interpreter (test_convert_reference.py)
on 64 random inputs and compared with onnxruntime: top-1 must agree on
>= 99 % of them and the median relative L2 error must be <= 1e-4.
"""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from irnet_infer.convert import convert  # noqa: E402
from irnet_infer.irb import read_irb  # noqa: E402
from test_convert_reference import assert_matches_ort, engine_run, ops_of, ort_run, run_irb  # noqa: E402
from tools.irnet_torch import layers as L  # noqa: E402
from tools.irnet_torch import models as M  # noqa: E402
from tools.irnet_torch.export import export, randomize_batchnorm  # noqa: E402

BATCH = 64


def trained_like(model, seed=0):
    """Heavy-tailed latent weights, as after training: per output channel
    w = z**p with p in {1, 3, 5}, so mean|Wn| ≈ 0.80, 0.41, 0.21 and the
    bit-shift scales s_o are 1, ½ and ¼."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (L.BinaryConv2d, L.BinaryLinear)):
                z = torch.randn(m.weight.shape, generator=gen)
                powers = torch.tensor([1.0, 3.0, 5.0])[torch.arange(m.weight.shape[0]) % 3]
                m.weight.copy_(z.pow(powers.view(-1, *([1] * (z.dim() - 1)))) * 0.05)
    return model


class IRNetPair(torch.nn.Module):
    """hardtanh → [bconv 3×3 → BN → +x → hardtanh] → [bconv 3×3/2 → BN → hardtanh].

    The dynamo exporter folds the small conv1 (BN fused in: ±α_o weights, α_o arbitrary)
    but keeps the Libra-PB subgraph and a separate BN for the large conv2: one model
    with both forms."""

    def __init__(self):
        super().__init__()
        self.conv1 = L.BinaryConv2d(16, 16, 3, 1, 1)
        self.bn1 = torch.nn.BatchNorm2d(16)
        self.conv2 = L.BinaryConv2d(16, 512, 3, 2, 1)
        self.bn2 = torch.nn.BatchNorm2d(512)

    def forward(self, x):
        x = torch.nn.functional.hardtanh(x)
        x = torch.nn.functional.hardtanh(self.bn1(self.conv1(x)) + x)
        return torch.nn.functional.hardtanh(self.bn2(self.conv2(x)))


def binary_nodes(irb_path):
    return [n for n in read_irb(irb_path).nodes if n.op in ("BinaryConv2d", "BinaryGemm")]


@pytest.mark.parametrize("dynamo,opset", [(False, 11), (False, 17), (True, 18)])
def test_irnet_layers_all_exporters(tmp_path, dynamo, opset):
    torch.manual_seed(0)
    model = randomize_batchnorm(trained_like(IRNetPair()))
    onnx_path = export(model, str(tmp_path / "m.onnx"), (2, 16, 10, 9), dynamo=dynamo, opset=opset,
                       verify=False)
    report = convert(onnx_path, tmp_path / "m.irb")
    assert ops_of(tmp_path / "m.irb") == ["Clip", "SignPack", "BinaryConv2d", "BinaryConv2d"]
    first, second = binary_nodes(tmp_path / "m.irb")
    assert first.attrs["mode"] == "bits" and second.attrs["mode"] == "float"   # only conv2 reads it
    assert first.inputs[5] is not None and first.attrs["clip"] == [-1.0, 1.0]   # residual, hardtanh
    tensors = read_irb(tmp_path / "m.irb").tensors
    # The Libra-PB subgraph folds to sign·s_o with s_o ∈ {1, ½, ¼}: shifts, BN in the scale;
    # dynamo's pre-folded conv1 has ±α_o weights with α_o = s_o·γ/σ: a scale, no shift.
    assert set(tensors[second.inputs[2]].data.tolist()) == {0, 1, 2}
    if dynamo:
        assert first.inputs[2] is None and first.inputs[3] is not None
    else:
        assert set(tensors[first.inputs[2]].data.tolist()) == {0, 1, 2}
    assert len([x for x in report.layers if x.binary]) == 2
    x = np.random.default_rng(2).standard_normal((2, 16, 10, 9)).astype(np.float32)
    assert_matches_ort(onnx_path, tmp_path / "m.irb", x)


# -- whole networks ---------------------------------------------------------------

def bireal_resnet18_small():
    """ResNet-18 Bi-Real layout (16 binary convs) for 32×32 inputs: final map 1×1."""
    return M.BiRealResNet([4, 4, 4, 4], [64, 128, 256, 512], num_classes=100, pool_kernel=1)


NETWORKS = {
    # id: (constructor, input shape, dynamo, expected binary layer count)
    "resnet20-legacy": (lambda: trained_like(M.resnet20()), (BATCH, 3, 32, 32), False, 18),
    "resnet20-dynamo": (lambda: trained_like(M.resnet20()), (BATCH, 3, 32, 32), True, 18),
    "vgg_small-legacy": (M.vgg_small, (BATCH, 3, 32, 32), False, 5),
    "bireal_resnet18-legacy": (bireal_resnet18_small, (BATCH, 3, 32, 32), False, 16),
    "resnet18_float-legacy": (M.resnet18_float, (BATCH, 3, 32, 32), False, 0),
    "digits_1w32a-legacy": (lambda: M.birealnet_digits(config=L.BinaryConfig(binary_activations=False)),
                            (BATCH, 1, 16, 16), False, 0),
}


@pytest.fixture(scope="module", params=sorted(NETWORKS))
def network(request, tmp_path_factory):
    ctor, shape, dynamo, n_binary = NETWORKS[request.param]
    torch.manual_seed(0)
    model = randomize_batchnorm(ctor())
    folder = tmp_path_factory.mktemp(request.param)
    onnx_path = export(model, str(folder / "model.onnx"), shape, dynamo=dynamo, verify=False)
    report = convert(onnx_path, folder / "model.irb")
    return request.param, onnx_path, folder / "model.irb", report, shape, n_binary


def test_network_agrees_with_onnxruntime(network):
    name, onnx_path, irb_path, report, shape, n_binary = network
    assert len([x for x in report.layers if x.binary]) == n_binary
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    (ref,) = ort_run(onnx_path, x)
    for who, (got,) in (("interpreter", run_irb(irb_path, x)), ("engine", engine_run(irb_path, x))):
        assert got.shape == ref.shape == (BATCH, ref.shape[1])
        top1 = np.mean(got.argmax(axis=1) == ref.argmax(axis=1))
        rel = np.linalg.norm(got - ref, axis=1) / np.linalg.norm(ref, axis=1)
        assert top1 >= 0.99, f"{name}, {who}: top-1 agreement {top1:.3f}"
        assert np.median(rel) <= 1e-4, f"{name}, {who}: median relative L2 error {np.median(rel):.2e}"


def test_network_structure(network):
    """What each network lowers to: Bi-Real blocks fuse BN+Add+Clip and hand bits on;
    VGG-Small moves BN before MaxPool; 1W/32A stays float and says so."""
    name, _onnx, irb_path, report, _shape, _n = network
    nodes = binary_nodes(irb_path)
    text = report.render(str(irb_path), os.path.getsize(irb_path))
    if name.startswith(("resnet20-", "bireal")):
        assert all(n.inputs[5] is not None and n.attrs["clip"] == [-1.0, 1.0] for n in nodes)
        assert [n.attrs["mode"] for n in nodes[:-1]] == ["float+bits"] * (len(nodes) - 1)
        assert ops_of(irb_path).count("SignPack") == 1
    if name.startswith("vgg"):
        assert "BatchNormalization (moved before MaxPool)" in text
        assert [n.attrs["mode"] for n in nodes] == ["float", "bits", "float", "bits", "float"]
        # hardtanh after a pool only feeds sign(): dropped, except the last one (it feeds fc)
        assert ops_of(irb_path).count("Clip") == 1
    if name.startswith("digits_1w32a"):
        assert text.count("1W/32A:") == 6 and "SignPack" not in ops_of(irb_path)
    if name.startswith("resnet18_float"):
        assert "BinaryConv2d" not in ops_of(irb_path) and "ChannelAffine" not in ops_of(irb_path)
