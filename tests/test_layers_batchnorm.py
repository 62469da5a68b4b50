"""reglab.layers.batch_norm, BatchNorm1d and BatchNorm2d against
F.batch_norm and nn.BatchNorm1d/2d: outputs, gradients (input, weight,
bias) and running statistics over shapes × seeds × dtypes × devices, the
modules step by step through train and eval calls, gradcheck in float64, a
bad-input table, and proof that torch's batch norm is not called."""

import copy
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reglab.layers import BatchNorm1d, BatchNorm2d, batch_norm
from tests.conftest import tolerances

X = torch.randn(8, 3)
ONES3 = torch.ones(3)

BAD_INPUT = [
    (batch_norm, (torch.ones(5), None, None), {"training": True},
     ValueError, r"'x' parameter of batch_norm must be a tensor of shape "
     r"\(N, C\) or \(N, C, \*\)\. Got a 1-D tensor of shape \(5,\)"),
    (batch_norm, ([[1.0]], None, None), {}, TypeError,
     r"'x'.*torch.Tensor.*list"),
    (batch_norm, (X.long(), None, None), {}, TypeError,
     r"'x'.*floating-point.*torch.int64"),
    (batch_norm, (X, None, None), {}, ValueError,
     r"'running_mean'.*a tensor when training=False.*Got None"),
    (batch_norm, (X, torch.zeros(4), ONES3), {}, ValueError,
     r"'running_mean'.*shape \(3,\), one value per channel.*Got a 1-D "
     r"tensor of shape \(4,\)"),
    (batch_norm, (X, None, None, torch.ones(3, 1)), {"training": True},
     ValueError, r"'weight'.*shape \(3,\).*\(3, 1\)"),
    (batch_norm, (X, None, None), {"training": True, "momentum": 1.5},
     ValueError, r"'momentum'.*\[0.0, 1.0\].*Got 1.5"),
    (batch_norm, (X, None, None), {"training": True, "eps": 0.0},
     ValueError, r"'eps'.*a float > 0.0.*Got 0.0"),
    (batch_norm, (X, None, None), {"training": 1}, TypeError,
     r"'training'.*a bool.*Got 1"),
    (batch_norm, (torch.ones(1, 3), None, None), {"training": True},
     ValueError, r"^Expected more than 1 value per channel when training.*"
     r"'x'.*Got a 2-D tensor of shape \(1, 3\)"),
    (BatchNorm1d, (0,), {}, ValueError,
     r"'num_features' parameter of BatchNorm1d.*>= 1.*Got 0"),
    (BatchNorm1d, (3.0,), {}, TypeError, r"'num_features'.*an int"),
    (BatchNorm1d, (3,), {"momentum": -0.1}, ValueError,
     r"'momentum'.*BatchNorm1d.*\[0.0, 1.0\].*Got -0.1"),
    (BatchNorm2d, (3,), {"eps": -1e-5}, ValueError,
     r"'eps'.*BatchNorm2d.*> 0.0.*Got -1e-05"),
    (BatchNorm2d, (3,), {"affine": "yes"}, TypeError,
     r"'affine'.*a bool.*Got 'yes'"),
    (BatchNorm1d, (3,), {"track_running_stats": None}, TypeError,
     r"'track_running_stats'.*a bool.*Got None"),
    (BatchNorm2d(3).forward, (torch.ones(2, 3, 4),), {}, ValueError,
     r"'input' parameter of BatchNorm2d must be a 4-D \(N, C, H, W\) "
     r"tensor\. Got a 3-D tensor of shape \(2, 3, 4\)"),
    (BatchNorm1d(3).forward, (torch.ones(2, 3, 4, 4),), {}, ValueError,
     r"'input'.*BatchNorm1d.*2-D \(N, C\) or 3-D \(N, C, L\).*Got a 4-D"),
    (BatchNorm1d(3).forward, (torch.ones(8, 4),), {}, ValueError,
     r"'input'.*num_features=3 channels.*Got a 2-D tensor of shape "
     r"\(8, 4\)"),
    (BatchNorm1d(3).forward, (torch.ones(1, 3),), {}, ValueError,
     r"Expected more than 1 value per channel when training.*'input' "
     r"parameter of BatchNorm1d"),
    (BatchNorm2d(3).forward, ("x",), {}, TypeError,
     r"'input'.*BatchNorm2d.*torch.Tensor.*str"),
]


def _randn(shape, dtype, device, seed, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(shape, generator=g, dtype=dtype) + shift
    return x.to(device)


def _grads(out, inputs, upstream):
    wrt = [t for t in inputs if t is not None and t.requires_grad]
    return torch.autograd.grad(out, wrt, upstream)


SHAPES = [(8, 3), (4, 3, 5), (2, 3, 4, 4), (3, 3, 2, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_function_matches_torch(shape, seed, training, affine, dtype,
                                device):
    tol = tolerances(dtype)
    C = shape[1]
    x = _randn(shape, dtype, device, seed, 2.0, 1.0).requires_grad_()
    w = b = None
    if affine:
        w = _randn(C, dtype, device, seed + 1).requires_grad_()
        b = _randn(C, dtype, device, seed + 2).requires_grad_()
    rm_a = _randn(C, dtype, device, seed + 3)
    rv_a = _randn(C, dtype, device, seed + 4).abs() + 0.5
    rm_b, rv_b = rm_a.clone(), rv_a.clone()
    out_a = batch_norm(x, rm_a, rv_a, w, b, training, 0.3, 1e-3)
    out_b = F.batch_norm(x, rm_b, rv_b, w, b, training, 0.3, 1e-3)
    torch.testing.assert_close(out_a, out_b, **tol)
    torch.testing.assert_close(rm_a, rm_b, **tol)
    torch.testing.assert_close(rv_a, rv_b, **tol)
    g = _randn(shape, dtype, device, seed + 5)
    for ga, gb in zip(_grads(out_a, (x, w, b), g),
                      _grads(out_b, (x, w, b), g)):
        torch.testing.assert_close(ga, gb, **tol)


@pytest.mark.parametrize("momentum", [0.0, 0.5, 1.0])
def test_function_running_stats_update(momentum, dtype, device):
    """running = (1 - momentum)·running + momentum·batch, with the
    unbiased variance; checked against the formula and against torch."""
    x = _randn((6, 2, 3), dtype, device, 0, 3.0, -1.0)
    rm, rv = torch.zeros(2, dtype=dtype, device=device), \
        torch.ones(2, dtype=dtype, device=device)
    rm_t, rv_t = rm.clone(), rv.clone()
    batch_norm(x, rm, rv, training=True, momentum=momentum)
    F.batch_norm(x, rm_t, rv_t, training=True, momentum=momentum)
    flat = x.transpose(0, 1).reshape(2, -1)
    tol = tolerances(dtype)
    torch.testing.assert_close(rm, momentum * flat.mean(1), **tol)
    torch.testing.assert_close(
        rv, (1 - momentum) + momentum * flat.var(1, correction=1), **tol)
    torch.testing.assert_close(rm, rm_t, **tol)
    torch.testing.assert_close(rv, rv_t, **tol)


def test_function_without_running_stats_in_training(dtype, device):
    x = _randn((5, 4, 3), dtype, device, 1)
    torch.testing.assert_close(
        batch_norm(x, None, None, training=True),
        F.batch_norm(x, None, None, training=True), **tolerances(dtype))


def test_one_sample_with_several_values_per_channel_is_fine():
    """(1, C, L) has L values per channel: allowed in training, as in
    torch; (1, C) is allowed in evaluation."""
    x = torch.randn(1, 3, 4)
    torch.testing.assert_close(batch_norm(x, None, None, training=True),
                               F.batch_norm(x, None, None, training=True))
    bn = BatchNorm1d(3).eval()
    assert bn(torch.randn(1, 3)).shape == (1, 3)


def test_gradcheck_float64():
    d = torch.float64
    x = _randn((4, 3, 2), d, "cpu", 0).requires_grad_()
    w = _randn(3, d, "cpu", 1).requires_grad_()
    b = _randn(3, d, "cpu", 2).requires_grad_()
    rm, rv = torch.zeros(3, dtype=d), torch.ones(3, dtype=d)
    assert torch.autograd.gradcheck(
        lambda x, w, b: batch_norm(x, None, None, w, b, True), (x, w, b))
    assert torch.autograd.gradcheck(
        lambda x, w, b: batch_norm(x, rm, rv, w, b, False), (x, w, b))
    bn = BatchNorm2d(3).double()
    assert torch.autograd.gradcheck(
        bn, (_randn((3, 3, 2, 2), d, "cpu", 3).requires_grad_(),))


MODULE_CASES = [
    (BatchNorm1d, nn.BatchNorm1d, (16, 4), {}),
    (BatchNorm1d, nn.BatchNorm1d, (8, 4, 5), {"momentum": None}),
    (BatchNorm1d, nn.BatchNorm1d, (16, 4), {"affine": False}),
    (BatchNorm1d, nn.BatchNorm1d, (8, 4, 3),
     {"track_running_stats": False}),
    (BatchNorm2d, nn.BatchNorm2d, (4, 4, 5, 5), {}),
    (BatchNorm2d, nn.BatchNorm2d, (4, 4, 3, 5),
     {"momentum": None, "eps": 1e-3}),
    (BatchNorm2d, nn.BatchNorm2d, (3, 4, 4, 4),
     {"affine": False, "momentum": 0.5}),
    (BatchNorm2d, nn.BatchNorm2d, (4, 4, 3, 3),
     {"track_running_stats": False, "affine": False}),
]

SCHEDULE = ["train", "train", "eval", "train", "train", "eval", "train"]


@pytest.mark.parametrize(
    "ours_cls, torch_cls, shape, kwargs", MODULE_CASES,
    ids=[f"{c[0].__name__}-{c[3]}" for c in MODULE_CASES])
def test_module_matches_torch_step_by_step(ours_cls, torch_cls, shape,
                                           kwargs, dtype, device):
    tol = tolerances(dtype)
    ref = torch_cls(shape[1], **kwargs).to(device, dtype)
    ours = ours_cls(shape[1], **kwargs).to(device, dtype)
    if ref.affine:  # non-trivial γ, β, loaded through the state dict
        with torch.no_grad():
            ref.weight.copy_(_randn(shape[1], dtype, device, 7))
            ref.bias.copy_(_randn(shape[1], dtype, device, 8))
    ours.load_state_dict(ref.state_dict())
    for step, mode in enumerate(SCHEDULE):
        ours.train(mode == "train")
        ref.train(mode == "train")
        x = _randn(shape, dtype, device, step, 1.0 + step, step - 3.0)
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        out_a, out_b = ours(xa), ref(xb)
        torch.testing.assert_close(out_a, out_b, **tol)
        g = _randn(shape, dtype, device, 100 + step)
        out_a.backward(g)
        out_b.backward(g)
        torch.testing.assert_close(xa.grad, xb.grad, **tol)
        for name, value in ref.named_parameters():
            torch.testing.assert_close(getattr(ours, name).grad,
                                       value.grad, **tol)
        for name, value in ref.named_buffers():
            torch.testing.assert_close(getattr(ours, name), value, **tol)
        assert [n for n, _ in ours.named_buffers()] == \
            [n for n, _ in ref.named_buffers()]


@pytest.mark.parametrize("ours_cls, torch_cls",
                         [(BatchNorm1d, nn.BatchNorm1d),
                          (BatchNorm2d, nn.BatchNorm2d)])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None, "eps": 1e-3},
                                    {"affine": False,
                                     "track_running_stats": False}])
def test_module_attributes_state_dict_and_repr(ours_cls, torch_cls,
                                               kwargs):
    ours, ref = ours_cls(5, **kwargs), torch_cls(5, **kwargs)
    # Recent torch also shows its (newer) bias= option, which we lack.
    assert repr(ours) == re.sub(r", bias=\w+", "", repr(ref))
    assert ours.state_dict().keys() == ref.state_dict().keys()
    for name, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value)
        assert ours.state_dict()[name].dtype == value.dtype
    for attr in ("num_features", "eps", "momentum", "affine",
                 "track_running_stats"):
        assert getattr(ours, attr) == getattr(ref, attr)


def test_reset_running_stats_and_parameters():
    bn = BatchNorm1d(3)
    with torch.no_grad():
        bn.weight.fill_(2.0)
    bn(torch.randn(8, 3) * 5 + 1)
    assert int(bn.num_batches_tracked) == 1
    bn.reset_parameters()
    fresh = nn.BatchNorm1d(3)
    for name, value in fresh.state_dict().items():
        assert torch.equal(bn.state_dict()[name], value)


def test_model_with_batchnorm_trains_like_torch():
    """A small net with our layer follows the torch net over a few SGD
    steps, then agrees in evaluation mode."""
    torch.manual_seed(0)
    ref = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(),
                        nn.Linear(8, 1)).double()
    ours = copy.deepcopy(ref)
    ours[1] = BatchNorm1d(8).double()
    ours.load_state_dict(ref.state_dict())
    X, y = torch.randn(32, 6).double(), torch.randn(32, 1).double()
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (ours, ref)]
    for _ in range(5):
        for net, opt in zip((ours, ref), opts):
            opt.zero_grad()
            F.mse_loss(net(X), y).backward()
            opt.step()
    ours.eval()
    ref.eval()
    torch.testing.assert_close(ours(X), ref(X))


def _boom(*args, **kwargs):
    raise AssertionError("torch's batch norm was called")


BUILTINS = [
    (F, "batch_norm"), (torch, "batch_norm"), (torch, "native_batch_norm"),
    (torch, "_native_batch_norm_legit"),
    (torch, "_native_batch_norm_legit_no_training"),
    (torch, "cudnn_batch_norm"), (torch, "batch_norm_stats"),
    (torch, "batch_norm_elemt"), (F, "instance_norm"), (F, "layer_norm"),
    (F, "group_norm"), (torch, "var"), (torch, "var_mean"),
    (torch.Tensor, "var"), (torch, "std"), (torch.Tensor, "std"),
    (nn.BatchNorm1d, "forward"), (nn.BatchNorm2d, "forward"),
]


def test_does_not_call_torch_batch_norm(monkeypatch):
    x = torch.randn(6, 3, 2, 2, requires_grad=True)
    ref = nn.BatchNorm2d(3)
    expected = ref(x)
    for owner, name in BUILTINS:
        if hasattr(owner, name):
            monkeypatch.setattr(owner, name, _boom)
    with pytest.raises(AssertionError):
        F.batch_norm(x, None, None, training=True)  # the patch is in force
    bn = BatchNorm2d(3)
    out = bn(x)
    out.sum().backward()
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(bn.running_var, ref.running_var)
    assert batch_norm(x.flatten(2), None, None, training=True).isfinite() \
        .all()
