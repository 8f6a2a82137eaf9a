"""IR-Net PyTorch layers (tools/irnet_torch): Libra-PB math, EDE gradient, models, export."""
import os
import sys

import numpy as np
import onnx
import pytest

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
F = torch.nn.functional

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from tools.irnet_torch import layers as L  # noqa: E402
from tools.irnet_torch import models as M  # noqa: E402
from tools.irnet_torch.export import export, randomize_batchnorm  # noqa: E402


def numpy_libra_pb(w: np.ndarray):
    """Independent float64 reference: standardize per output channel (ddof=1), 2^round(log2)."""
    flat = w.reshape(w.shape[0], -1).astype(np.float64)
    centered = flat - flat.mean(axis=1, keepdims=True)
    wn = centered / centered.std(axis=1, ddof=1, keepdims=True)
    scale = 2.0 ** np.round(np.log2(np.abs(wn).mean(axis=1)))   # numpy rounds half to even
    return wn.reshape(w.shape), scale


# ---------------------------------------------------------------- Libra-PB

def test_libra_pb_standardizes_with_unbiased_std():
    torch.manual_seed(0)
    w = torch.randn(8, 3, 3, 3) * 0.3 + 0.1
    wn, scale = L.libra_pb_weight(w)
    flat = wn.reshape(8, -1).double()
    assert torch.allclose(flat.mean(1), torch.zeros(8, dtype=torch.float64), atol=1e-6)
    # unbiased: sum(wn^2) = n - 1 exactly (the biased estimator would give n)
    n = flat.shape[1]
    assert torch.allclose(flat.square().sum(1), torch.full((8,), n - 1.0, dtype=torch.float64),
                          rtol=1e-5)
    ref_wn, ref_scale = numpy_libra_pb(w.numpy())
    np.testing.assert_allclose(wn.numpy(), ref_wn, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(scale.flatten().numpy(), ref_scale)


@pytest.mark.parametrize("log2_mean, expected_scale", [(-0.5, 1.0), (-1.5, 0.25), (-2.5, 0.25),
                                                       (-0.49, 1.0), (-0.51, 0.5)])
def test_bitshift_scale_rounds_half_to_even(log2_mean, expected_scale):
    # four equal magnitudes: their mean is exact, so log2 lands exactly on the .5 tie
    value = float(np.float32(2.0 ** log2_mean))
    wn = torch.tensor([[value, -value, value, -value]])
    assert torch.log2(wn.abs().mean()).item() == pytest.approx(log2_mean, abs=1e-6)
    assert L.bitshift_scale(wn).item() == expected_scale


def _sparse_rows(fraction_nonzero: float, rows=4, n=576, seed=0):
    """Heavy-tailed rows: a few large weights, the rest tiny noise."""
    gen = torch.Generator().manual_seed(seed)
    w = 1e-3 * torch.randn(rows, n, generator=gen)
    m = int(n * fraction_nonzero)
    w[:, :m] += torch.sign(torch.randn(rows, m, generator=gen))
    return w.reshape(rows, 64, 3, 3)


def test_bitshift_scale_on_gaussian_and_heavy_tailed_weights():
    torch.manual_seed(0)
    # Gaussian: mean|Wn| ~ sqrt(2/pi) = 0.80, log2 = -0.33 -> s = 1 (random init)
    _, s_gauss = L.libra_pb_weight(torch.randn(16, 64, 3, 3))
    assert torch.all(s_gauss == 1.0)
    # m of n weights carry the variance: mean|Wn| ~ sqrt(m/n)
    _, s_half = L.libra_pb_weight(_sparse_rows(0.25))      # sqrt(.25)=.5, log2=-1 -> 1/2
    assert torch.all(s_half == 0.5), s_half.flatten()
    _, s_quarter = L.libra_pb_weight(_sparse_rows(1 / 16))  # sqrt(1/16)=.25 -> 1/4
    assert torch.all(s_quarter == 0.25), s_quarter.flatten()
    # the scale is never above 1: mean|Wn| <= sqrt(mean Wn^2) = sqrt((n-1)/n) < 1
    _, s_two = L.libra_pb_weight(torch.tensor([[1.0, -1.0], [3.0, 5.0]]))
    assert torch.all(s_two <= 1.0)


# ---------------------------------------------------------------- EDE

def test_ede_schedule_endpoints():
    assert L.ede_parameters(0, 10) == pytest.approx((10.0, 0.1))
    assert L.ede_parameters(5, 10) == pytest.approx((1.0, 1.0))
    assert L.ede_parameters(10, 10) == pytest.approx((1.0, 10.0))
    k, t = L.ede_parameters(3, 10, tmin=1e-3, tmax=10)
    assert t == pytest.approx(10 ** (-3 + 4 * 0.3)) and k == pytest.approx(1 / t)
    with pytest.raises(ValueError, match="epochs"):
        L.ede_parameters(0, 0)
    with pytest.raises(ValueError, match="tmin"):
        L.BinaryConfig(tmin=2.0, tmax=1.0)


@pytest.mark.parametrize("epoch", [0, 3, 5, 9])
def test_ede_gradient_matches_finite_difference_of_k_tanh(epoch):
    k, t = L.ede_parameters(epoch, 10)
    x = torch.linspace(-3, 3, 101, dtype=torch.float64, requires_grad=True)
    y = L._SignEDE.apply(x, k, t)
    assert torch.equal(y.detach(), torch.sign(x.detach()))
    (grad,) = torch.autograd.grad(y.sum(), x)
    # EDE is the derivative of k*tanh(t*x): check against a central finite difference
    h = 1e-6
    xd = x.detach()
    finite = (k * torch.tanh(t * (xd + h)) - k * torch.tanh(t * (xd - h))) / (2 * h)
    torch.testing.assert_close(grad, finite, rtol=1e-6, atol=1e-8)


def test_layer_uses_ede_in_training_and_ste_when_ablated():
    torch.manual_seed(0)
    x = torch.tensor([[[[-2.0, -0.5]], [[0.5, 2.0]]]], requires_grad=True)   # 2 channels
    for config, expected in ((L.IRNET, None), (L.PLAIN, torch.tensor([0.0, 1.0, 1.0, 0.0]))):
        conv = L.BinaryConv2d(2, 1, 1, config=config)
        L.set_ede_epoch(conv, 2, 4)
        conv.train()
        (g,) = torch.autograd.grad(conv(x).sum(), x)
        # d out / d x[c] = Qw[c] * sign'(x[c]) for a 1x1 conv with one output channel
        g = (g / conv.binary_weight().detach().reshape(1, 2, 1, 1)).flatten()
        if expected is None:  # EDE at t = 1, k = 1
            expected = 1 - torch.tanh(x.detach().flatten()).square()
        torch.testing.assert_close(g, expected)


def test_libra_pb_needs_two_weights_per_channel():
    with pytest.raises(ValueError, match="at least 2 weights per output channel"):
        L.BinaryConv2d(1, 4, 1)
    L.BinaryConv2d(1, 4, 1, config=L.PLAIN)   # plain sign(W) is defined for any size


# ---------------------------------------------------------------- layers

def test_binary_conv_matches_reference_and_pads_with_zero_after_sign():
    torch.manual_seed(1)
    conv = L.BinaryConv2d(5, 7, 3, stride=2, padding=(1, 2), dilation=2)
    conv.eval()
    x = torch.randn(2, 5, 9, 11)
    x[0, 0, 0, :3] = 0.0                        # sign(0) = 0 must pass through
    wn, scale = numpy_libra_pb(conv.weight.detach().numpy())
    qw = torch.from_numpy(np.sign(wn) * scale.reshape(-1, 1, 1, 1)).float()
    want = F.conv2d(torch.sign(x), qw, stride=2, padding=(1, 2), dilation=2)
    torch.testing.assert_close(conv(x), want)
    # padded taps contribute 0: a zero input gives exactly zero output everywhere
    assert torch.count_nonzero(conv(torch.zeros(1, 5, 9, 11))) == 0


def test_w1a32_keeps_real_activations_and_linear_layer():
    torch.manual_seed(0)
    cfg = L.BinaryConfig(binary_activations=False)
    conv = L.BinaryConv2d(3, 4, 3, padding=1, config=cfg).eval()
    x = torch.randn(1, 3, 5, 5)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.binary_weight(), padding=1))
    lin = L.BinaryLinear(6, 2).eval()
    v = torch.randn(3, 6)
    torch.testing.assert_close(lin(v), torch.sign(v) @ lin.binary_weight().t())
    assert isinstance(M.resnet20(config=cfg).stem[2], torch.nn.ReLU)


# ---------------------------------------------------------------- models

def test_resnet18_parameter_counts_match_the_paper():
    model = M.resnet18()
    assert M.count_parameters(model) == 11_692_536          # 46.77 MB at 4 B
    assert M.count_binary_weights(model) == 10_985_472
    assert M.count_parameters(model) - M.count_binary_weights(model) == 707_064
    assert sum(isinstance(m, L.BinaryConv2d) for m in model.modules()) == 16
    assert M.count_parameters(M.resnet18_float()) == 11_689_512   # torchvision's count
    assert sum(isinstance(m, L.BinaryConv2d) for m in M.resnet34().modules()) == 32


@pytest.mark.parametrize("name, n_binary, out_shape", [
    ("resnet20", 18, (1, 10)), ("resnet18_cifar", 16, (1, 10)), ("vgg_small", 5, (1, 10)),
    ("birealnet_digits", 6, (1, 10)), ("floatnet_digits", 0, (1, 10))])
def test_small_models_run(name, n_binary, out_shape):
    torch.manual_seed(0)
    model, shape = M.build_model(name)
    assert sum(isinstance(m, L.BinaryConv2d) for m in model.modules()) == n_binary
    assert model.eval()(torch.randn(*shape)).shape == out_shape


def test_option_a_shortcut_slices_and_pads_channels():
    short = M._OptionAShortcut(16, 32)
    x = torch.randn(1, 16, 8, 8)
    y = short(x)
    assert y.shape == (1, 32, 4, 4)
    torch.testing.assert_close(y[:, 8:24], x[:, :, ::2, ::2])
    assert torch.count_nonzero(y[:, :8]) == 0 and torch.count_nonzero(y[:, 24:]) == 0


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown model 'resnet99'"):
        M.build_model("resnet99")


# ---------------------------------------------------------------- export

def test_legacy_export_keeps_libra_weight_subgraph(tmp_path):
    torch.manual_seed(0)
    model = randomize_batchnorm(M.birealnet_digits())
    path = export(model, str(tmp_path / "d.onnx"), M.DIGITS_INPUT, dynamo=False, opset=13)
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert {"ReduceMean", "Sub", "Div", "Sqrt", "Abs", "Log", "Round", "Pow", "Sign", "Mul",
            "Conv", "BatchNormalization", "Clip", "Add"} <= ops


def test_dynamo_export_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    model = randomize_batchnorm(torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.Hardtanh(),
        L.BinaryConv2d(8, 8, 3, padding=1), torch.nn.BatchNorm2d(8)))
    path = export(model, str(tmp_path / "d18.onnx"), (1, 3, 6, 6), dynamo=True)  # verified
    m = onnx.load(path)
    assert any(o.domain in ("", "ai.onnx") and o.version == 18 for o in m.opset_import)
    assert any(n.op_type == "Sign" for n in m.graph.node)


def test_export_cli_writes_a_verified_w1a32_model(tmp_path, capsys):
    from tools.irnet_torch.export import main
    out = tmp_path / "r20.onnx"
    assert main(["--model", "resnet20", "--out", str(out), "--w1a32", "--variant", "libra-pb"]) == 0
    assert "legacy exporter, input [1, 3, 32, 32]" in capsys.readouterr().out
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert "Relu" in ops and "Pad" in ops and "Slice" in ops     # ReLU, option-A shortcut
    with pytest.raises(SystemExit):
        main(["--model", "nope", "--out", str(out)])


def test_train_loop_advances_ede_and_learns(capsys):
    import io
    from tools.irnet_torch.train import ProgressBar, TrainConfig, train
    gen = np.random.default_rng(0)
    # two separable classes: bright top half vs bright bottom half
    y = gen.integers(0, 2, 128)
    x = np.full((128, 1, 16, 16), -1.0, np.float32)
    for i, label in enumerate(y):
        x[i, 0, 8 * label:8 * label + 8] = 1.0
    model = M.birealnet_digits(widths=(8, 16), convs_per_stage=(1, 1))
    result = train(model, x, y, x, y, TrainConfig(epochs=8, batch_size=16, seed=0, progress=False))
    assert result["train_acc"] >= 0.95
    conv = model.blocks[0].conv
    assert (conv.k, conv.t) == pytest.approx(L.ede_parameters(7, 8))   # last epoch's schedule
    stream = io.StringIO()
    bar = ProgressBar(4, "fit", width=8, stream=stream)
    bar.update(2, loss=0.5)
    assert stream.getvalue().startswith("fit [####----] 2/4 loss=0.5 ")
