"""reglab.losses against torch.nn.functional: values and gradients over
shapes × seeds × dtypes × devices, gradcheck in float64, stability at
logits of magnitude 1e4, a bad-input table, and proof that the built-ins
are not called."""

import pytest
import torch
import torch.nn.functional as F

from reglab.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_softmax,
    mse_loss,
)
from tests.conftest import tolerances

X = torch.randn(3, 4)
T3 = torch.tensor([0, 1, 2])

BAD_INPUT = [
    (mse_loss, ([1.0], X), {}, TypeError,
     r"'input' parameter of mse_loss must be a torch.Tensor.*list"),
    (mse_loss, (X, torch.zeros(3, 1)), {}, ValueError,
     r"'target'.*mse_loss.*shape \(3, 4\).*Got a 2-D tensor of shape "
     r"\(3, 1\)"),
    (mse_loss, (X, X), {"reduction": "avg"}, ValueError,
     r"'reduction'.*one of \{'mean', 'sum', 'none'\}.*Got 'avg'"),
    (log_softmax, (torch.ones(2, 3, dtype=torch.long),), {}, TypeError,
     r"'logits'.*log_softmax.*floating-point.*torch.int64"),
    (log_softmax, (X, 2), {}, ValueError,
     r"'dim'.*log_softmax.*\[-2, 1\].*Got 2 instead"),
    (log_softmax, (X, 1.0), {}, TypeError, r"'dim'.*an int.*Got 1.0"),
    (cross_entropy, (X, torch.tensor([0, 1, 4])), {}, ValueError,
     r"'target'.*cross_entropy.*\[0, 3\] \(C = 4 classes\).*Got 4"),
    (cross_entropy, (X, torch.tensor([0, -1, 2])), {}, ValueError,
     r"'target'.*\[0, 3\].*Got -1"),
    (cross_entropy, (X, torch.zeros(3, 4)), {}, TypeError,
     r"'target'.*integer class indices.*Got a tensor of dtype "
     r"torch.float32"),
    (cross_entropy, (X, torch.tensor([0, 1])), {}, ValueError,
     r"'target'.*shape \(3,\) for logits of shape \(3, 4\).*Got a "
     r"1-D tensor of shape \(2,\)"),
    (cross_entropy, (X, T3), {"label_smoothing": 1.5}, ValueError,
     r"'label_smoothing'.*\[0.0, 1.0\].*Got 1.5"),
    (cross_entropy, (X, T3), {"label_smoothing": -0.1}, ValueError,
     r"'label_smoothing'.*\[0.0, 1.0\].*Got -0.1"),
    (cross_entropy, (X, T3), {"label_smoothing": "0.1"}, TypeError,
     r"'label_smoothing'.*Got '0.1'"),
    (cross_entropy, (X, T3), {"reduction": "batchmean"}, ValueError,
     r"'reduction'.*cross_entropy.*Got 'batchmean'"),
    (cross_entropy, (torch.tensor(1.0), torch.tensor(0)), {}, ValueError,
     r"'logits'.*\(N, C\).*Got a 0-D tensor of shape \(\)"),
    (binary_cross_entropy_with_logits, (X, torch.zeros(4, 3)), {},
     ValueError, r"'target'.*shape \(3, 4\), the shape of 'logits'.*\(4, 3\)"),
    (binary_cross_entropy_with_logits, (X, torch.full((3, 4), 2.0)), {},
     ValueError, r"'target'.*\[0, 1\].*Got a tensor with values in "
     r"\[2, 2\]"),
    (binary_cross_entropy_with_logits, (X, torch.ones(3, 4).long()), {},
     TypeError, r"'target'.*floating-point.*torch.int64"),
    (binary_cross_entropy_with_logits, (X, X.sigmoid()),
     {"reduction": None}, ValueError, r"'reduction'.*Got None"),
]


def _randn(shape, dtype, device, seed, scale=1.0, grad=True):
    g = torch.Generator().manual_seed(seed)
    x = (scale * torch.randn(shape, generator=g, dtype=dtype)).to(device)
    return x.requires_grad_(grad)


def _check_value_and_grad(ours, theirs, inputs, dtype):
    """Same value, and same gradient for a random upstream gradient."""
    tol = tolerances(dtype)
    a = ours(*inputs)
    b = theirs(*inputs)
    torch.testing.assert_close(a, b, **tol)
    g = torch.randn(a.shape, generator=torch.Generator().manual_seed(9),
                    dtype=a.dtype).to(a.device)
    wrt = [t for t in inputs if t.requires_grad]
    ga = torch.autograd.grad(a, wrt, g)
    gb = torch.autograd.grad(b, wrt, g)
    for x, y in zip(ga, gb):
        torch.testing.assert_close(x, y, **tol)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_matches_torch(shape, seed, reduction, dtype, device):
    x = _randn(shape, dtype, device, seed)
    y = _randn(shape, dtype, device, seed + 100)
    _check_value_and_grad(
        lambda x, y: mse_loss(x, y, reduction=reduction),
        lambda x, y: F.mse_loss(x, y, reduction=reduction), (x, y), dtype)


@pytest.mark.parametrize("shape, dim", [((5,), 0), ((4, 7), -1),
                                        ((4, 7), 0), ((2, 3, 4), 1)])
@pytest.mark.parametrize("seed", [0, 1])
def test_log_softmax_matches_torch(shape, dim, seed, dtype, device):
    z = _randn(shape, dtype, device, seed, scale=5.0)
    _check_value_and_grad(lambda z: log_softmax(z, dim),
                          lambda z: F.log_softmax(z, dim), (z,), dtype)


EMPTY_SHAPES = [((5, 0, 0), 1), ((5, 0, 0), -1), ((5, 0, 0), 0), ((0,), 0),
                ((3, 0), 1), ((0, 3), 0), ((0, 3), 1)]


@pytest.mark.parametrize("shape, dim", EMPTY_SHAPES)
def test_log_softmax_of_an_empty_tensor_matches_torch(shape, dim, dtype,
                                                      device):
    """An empty tensor, also one whose softmax dimension has size 0, gives
    the empty result of F.log_softmax (not an IndexError from amax)."""
    z = _randn(shape, dtype, device, 0)
    out = log_softmax(z, dim)
    assert out.shape == shape
    _check_value_and_grad(lambda z: log_softmax(z, dim),
                          lambda z: F.log_softmax(z, dim), (z,), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_no_classes_matches_torch(reduction, device):
    """Logits with C = 0 classes and an empty target: torch returns nan
    for "mean" (0 / 0), 0 for "sum" and an empty tensor for "none"."""
    z = _randn((5, 0, 0), torch.float32, device, 0)
    y = torch.zeros(5, 0, dtype=torch.long, device=device)
    torch.testing.assert_close(
        cross_entropy(z, y, reduction=reduction),
        F.cross_entropy(z, y, reduction=reduction), equal_nan=True)


CE_SHAPES = [((6, 4), (6,)), ((3, 5, 2), (3, 2)), ((2, 3, 2, 4), (2, 2, 4)),
             ((5,), ())]


@pytest.mark.parametrize("shape, target_shape", CE_SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2, 1.0])
def test_cross_entropy_matches_torch(shape, target_shape, seed, reduction,
                                     label_smoothing, dtype, device):
    z = _randn(shape, dtype, device, seed, scale=3.0)
    C = shape[1] if len(shape) > 1 else shape[0]
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, C, target_shape, generator=g).to(device)
    kw = dict(reduction=reduction, label_smoothing=label_smoothing)
    _check_value_and_grad(lambda z: cross_entropy(z, y, **kw),
                          lambda z: F.cross_entropy(z, y, **kw), (z,), dtype)


def test_label_smoothing_is_cross_entropy_with_smoothed_targets(device):
    """An independent oracle: torch's probability-target cross-entropy
    against (1 - ε)·one_hot(y) + ε / C."""
    z = _randn((8, 5), torch.float64, device, 3)
    y = torch.randint(0, 5, (8,), generator=torch.Generator().manual_seed(3))
    y = y.to(device)
    eps = 0.3
    soft = (1 - eps) * F.one_hot(y, 5).double() + eps / 5
    torch.testing.assert_close(cross_entropy(z, y, label_smoothing=eps),
                               F.cross_entropy(z, soft))


def test_cross_entropy_accepts_any_integer_target_dtype():
    z = _randn((4, 3), torch.float64, "cpu", 0)
    y = torch.tensor([0, 2, 1, 2])
    expected = F.cross_entropy(z, y)
    for dt in (torch.int32, torch.int16, torch.uint8):
        torch.testing.assert_close(cross_entropy(z, y.to(dt)), expected)


@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_torch(shape, seed, reduction, dtype,
                                       device):
    z = _randn(shape, dtype, device, seed, scale=4.0)
    y = torch.rand(shape, generator=torch.Generator().manual_seed(seed),
                   dtype=dtype).to(device)
    y[..., 0] = 1.0  # hard and soft targets
    _check_value_and_grad(
        lambda z: binary_cross_entropy_with_logits(z, y,
                                                   reduction=reduction),
        lambda z: F.binary_cross_entropy_with_logits(z, y,
                                                     reduction=reduction),
        (z,), dtype)


def test_bce_gradient_at_zero_logit_is_sigmoid_minus_target(device):
    """max(z, 0) and |z| have kinks at 0; the gradient there must still be
    σ(0) - y = 0.5 - y."""
    z = torch.zeros(3, dtype=torch.float64, device=device,
                    requires_grad=True)
    y = torch.tensor([0.0, 0.3, 1.0], dtype=torch.float64, device=device)
    binary_cross_entropy_with_logits(z, y, reduction="sum").backward()
    torch.testing.assert_close(z.grad, 0.5 - y)


def test_gradcheck_float64():
    z = _randn((3, 4), torch.float64, "cpu", 0, scale=3.0)
    zz = _randn((2, 4, 3), torch.float64, "cpu", 1)
    y = torch.tensor([0, 3, 1])
    y2 = torch.tensor([[0, 3, 1], [2, 2, 0]])
    t = torch.rand(3, 4, dtype=torch.float64)
    w = _randn((3, 4), torch.float64, "cpu", 2)
    assert torch.autograd.gradcheck(lambda a, b: mse_loss(a, b), (z, w))
    assert torch.autograd.gradcheck(lambda a: log_softmax(a, 1), (z,))
    assert torch.autograd.gradcheck(
        lambda a: cross_entropy(a, y, label_smoothing=0.1), (z,))
    assert torch.autograd.gradcheck(
        lambda a: cross_entropy(a, y2, reduction="none"), (zz,))
    assert torch.autograd.gradcheck(
        lambda a, b: binary_cross_entropy_with_logits(a, b),
        (z, t.requires_grad_()))


def _huge_logits(dtype, device):
    z = torch.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4],
                      [1e4, 1e4, -1e4]], dtype=dtype)
    return z.to(device)


def test_log_softmax_is_stable_at_1e4(dtype, device):
    z = _huge_logits(dtype, device).requires_grad_()
    with torch.no_grad():  # the naive formula overflows
        assert not z.exp().div(z.exp().sum(1, keepdim=True)).log() \
            .isfinite().all()
    out = log_softmax(z)
    assert out.isfinite().all()
    ref = F.log_softmax(z.detach().cpu().double(), -1)
    torch.testing.assert_close(out.detach().cpu().double(), ref,
                               **tolerances(dtype))
    out.sum().backward()
    assert z.grad.isfinite().all()


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_is_stable_at_1e4(label_smoothing, dtype, device):
    z = _huge_logits(dtype, device).requires_grad_()
    y = torch.tensor([1, 2, 2], device=device)
    out = cross_entropy(z, y, reduction="none",
                        label_smoothing=label_smoothing)
    assert out.isfinite().all()
    ref = F.cross_entropy(z.detach().cpu().double(), y.cpu(),
                          reduction="none", label_smoothing=label_smoothing)
    torch.testing.assert_close(out.detach().cpu().double(), ref,
                               **tolerances(dtype))
    out.sum().backward()
    assert z.grad.isfinite().all()


def test_bce_with_logits_is_stable_at_1e4(dtype, device):
    z = torch.tensor([1e4, -1e4, 1e4, -1e4, 50.0, -50.0], dtype=dtype,
                     device=device, requires_grad=True)
    y = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.5, 0.5], dtype=dtype,
                     device=device)
    out = binary_cross_entropy_with_logits(z, y, reduction="none")
    assert out.isfinite().all()
    ref = F.binary_cross_entropy_with_logits(
        z.detach().cpu().double(), y.cpu().double(), reduction="none")
    torch.testing.assert_close(out.detach().cpu().double(), ref,
                               **tolerances(dtype))
    out.sum().backward()
    assert z.grad.isfinite().all()


def _boom(*args, **kwargs):
    raise AssertionError("a built-in loss was called")


BUILTINS = [
    (F, "mse_loss"), (torch._C._nn, "mse_loss"),
    (F, "cross_entropy"), (torch._C._nn, "cross_entropy_loss"),
    (F, "log_softmax"), (F, "softmax"), (F, "nll_loss"),
    (torch._C._nn, "nll_loss"), (torch._C._nn, "nll_loss_nd"),
    (torch, "log_softmax"), (torch, "softmax"), (torch, "logsumexp"),
    (torch.Tensor, "log_softmax"), (torch.Tensor, "softmax"),
    (torch.Tensor, "logsumexp"), (torch.special, "logsumexp"),
    (F, "binary_cross_entropy_with_logits"),
    (torch, "binary_cross_entropy_with_logits"),
    (F, "binary_cross_entropy"), (F, "logsigmoid"), (F, "softplus"),
    (torch._C._nn, "log_sigmoid"), (torch._C._nn, "softplus"),
    (torch, "sigmoid"), (torch.Tensor, "sigmoid"),
]


def test_losses_do_not_call_the_builtins(monkeypatch):
    z = torch.randn(4, 3, requires_grad=True)
    y = torch.tensor([0, 2, 1, 1])
    t = torch.rand(4, 3)
    expected = [F.mse_loss(z, t), F.log_softmax(z, -1),
                F.cross_entropy(z, y, label_smoothing=0.1),
                F.binary_cross_entropy_with_logits(z, t)]
    for owner, name in BUILTINS:
        monkeypatch.setattr(owner, name, _boom)
    with pytest.raises(AssertionError):
        F.cross_entropy(z, y)  # the patch is in force
    got = [mse_loss(z, t), log_softmax(z),
           cross_entropy(z, y, label_smoothing=0.1),
           binary_cross_entropy_with_logits(z, t)]
    sum(g.sum() for g in got).backward()
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)
