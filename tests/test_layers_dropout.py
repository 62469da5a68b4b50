"""reglab.layers.dropout and Dropout: statistical tests of the mask
(binomial confidence bounds, also against nn.Dropout), exact scaling of the
survivors, reproducibility with a generator, the gradient through the mask,
train/eval behaviour, a bad-input table, and proof that torch's dropout is
not called."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reglab.layers import Dropout, dropout

X = torch.ones(4, 3)

BAD_INPUT = [
    (dropout, (X,), {"p": 1.5}, ValueError,
     r"'p' parameter of dropout must be a float in the range \[0.0, 1.0\]"
     r"\. Got 1.5 instead"),
    (dropout, (X,), {"p": -0.1}, ValueError, r"'p'.*\[0.0, 1.0\].*-0.1"),
    (dropout, (X,), {"p": float("nan")}, ValueError, r"'p'.*Got nan"),
    (dropout, (X,), {"p": "0.5"}, TypeError, r"'p'.*Got '0.5'"),
    (dropout, ([1.0, 2.0],), {}, TypeError,
     r"'x' parameter of dropout must be a torch.Tensor.*list"),
    (dropout, (torch.ones(3, dtype=torch.long),), {}, TypeError,
     r"'x'.*floating-point tensor.*torch.int64"),
    (dropout, (X,), {"training": "yes"}, TypeError,
     r"'training'.*a bool.*Got 'yes'"),
    (dropout, (X,), {"generator": 0}, TypeError,
     r"'generator'.*torch.Generator or None.*Got an object of type int"),
    (Dropout, (2.0,), {}, ValueError,
     r"'p' parameter of Dropout.*\[0.0, 1.0\].*Got 2.0"),
    (Dropout, (None,), {}, TypeError, r"'p' parameter of Dropout.*None"),
]


N = 200_000  # elements per statistical test
Z = 5.0  # half-width of the confidence bounds, in standard deviations


def _gen(device, seed):
    return torch.Generator(device=device).manual_seed(seed)


def _zero_bound(p, n=N):
    """Z standard deviations of the fraction of zeros, Binomial(n, p)/n."""
    return Z * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("seed", [0, 1])
def test_fraction_of_zeros_is_binomial(p, seed, dtype, device):
    x = torch.rand(N, dtype=dtype, device=device) + 0.5  # never zero
    y = dropout(x, p, generator=_gen(device, seed))
    frac = (y == 0).double().mean().item()
    assert abs(frac - p) <= _zero_bound(p), (frac, p)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_zeros_distributed_like_nn_dropout(p, device):
    """Both fractions lie in the binomial bound around p, and differ by
    less than the bound for the difference of two binomial fractions."""
    x = torch.ones(N, device=device)
    torch.manual_seed(0)
    ours = (dropout(x, p) == 0).double().mean().item()
    theirs = (nn.Dropout(p)(x) == 0).double().mean().item()
    assert abs(ours - p) <= _zero_bound(p)
    assert abs(theirs - p) <= _zero_bound(p)
    assert abs(ours - theirs) <= Z * math.sqrt(2 * p * (1 - p) / N)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_survivors_are_exactly_scaled(p, dtype, device):
    x = torch.randn(1000, dtype=dtype, device=device)
    y = dropout(x, p, generator=_gen(device, 3))
    kept = y != 0
    assert torch.equal(y[kept], x[kept] / (1 - p))
    assert y.dtype == dtype and y.device == x.device and y.shape == x.shape


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_mean_is_preserved(p, device):
    """E[y] = x: the mean of dropout(1) is 1 within Z standard deviations
    (each element has variance p / (1 - p))."""
    y = dropout(torch.ones(N, dtype=torch.float64, device=device), p,
                generator=_gen(device, 5))
    assert abs(y.mean().item() - 1.0) <= Z * math.sqrt(p / (1 - p) / N)


def test_same_seed_same_mask(device):
    x = torch.randn(64, 32, device=device)
    a = dropout(x, 0.5, generator=_gen(device, 7))
    b = dropout(x, 0.5, generator=_gen(device, 7))
    c = dropout(x, 0.5, generator=_gen(device, 8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_mask_is_drawn_with_torch_rand(device):
    """The documented mask: u ~ U[0, 1) from the generator, kept if u ≥ p."""
    x = torch.randn(50, 20, device=device)
    u = torch.rand(x.shape, generator=_gen(device, 11), device=device)
    y = dropout(x, 0.3, generator=_gen(device, 11))
    assert torch.equal(y != 0, u >= 0.3)


def test_identity_in_eval_and_for_p_zero(dtype, device):
    x = torch.randn(5, 4, dtype=dtype, device=device)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    assert dropout(x, 1.0, training=False) is x


def test_p_one_gives_zeros_with_zero_gradient(dtype, device):
    x = torch.randn(5, 4, dtype=dtype, device=device, requires_grad=True)
    y = dropout(x, 1.0)
    assert torch.equal(y, torch.zeros_like(x))
    y.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
    torch.testing.assert_close(y, F.dropout(x, 1.0))


@pytest.mark.parametrize("p", [0.25, 0.6])
def test_gradient_is_mask_over_keep_probability(p, dtype, device):
    x = torch.randn(40, 30, dtype=dtype, device=device, requires_grad=True)
    g = torch.randn(40, 30, dtype=dtype, device=device)
    mask = torch.rand(x.shape, generator=_gen(device, 2), dtype=dtype,
                      device=device) >= p
    dropout(x, p, generator=_gen(device, 2)).backward(g)
    torch.testing.assert_close(x.grad, g * mask / (1 - p), rtol=0, atol=0)


def test_gradcheck_float64():
    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda x: dropout(x, 0.3, generator=_gen("cpu", 0)), (x,))


def test_module_follows_train_and_eval(device):
    layer = Dropout(0.5)
    net = nn.Sequential(nn.Identity(), layer).to(device)
    x = torch.ones(10_000, device=device)
    assert layer.training
    y = net(x)
    assert set(y.unique().tolist()) == {0.0, 2.0}
    net.eval()
    assert not layer.training
    assert torch.equal(net(x), x)
    net.train()
    assert (net(x) == 0).any()
    assert list(layer.state_dict()) == []


def test_module_repr_and_defaults():
    assert repr(Dropout()) == "Dropout(p=0.5)"
    assert Dropout(0.1).p == 0.1
    assert Dropout(0).p == 0.0  # ints are accepted, stored as a float


def test_module_uses_the_global_generator():
    x = torch.ones(100)
    torch.manual_seed(4)
    a = Dropout(0.5)(x)
    torch.manual_seed(4)
    b = Dropout(0.5)(x)
    assert torch.equal(a, b)


@pytest.mark.gpu
def test_generator_on_another_device_is_a_clear_error():
    with pytest.raises(ValueError, match=r"'generator'.*device of 'x' "
                                         r"\(cuda\).*generator on cpu"):
        dropout(torch.ones(3, device="cuda"), generator=_gen("cpu", 0))


def _boom(*args, **kwargs):
    raise AssertionError("torch's dropout was called")


BUILTINS = [
    (F, "dropout"), (torch, "dropout"), (torch, "native_dropout"),
    (torch, "feature_dropout"), (torch, "alpha_dropout"),
    (torch, "bernoulli"), (torch.Tensor, "bernoulli"),
    (torch.Tensor, "bernoulli_"), (nn.Dropout, "forward"),
]


def test_does_not_call_torch_dropout(monkeypatch):
    for owner, name in BUILTINS:
        monkeypatch.setattr(owner, name, _boom)
    with pytest.raises(AssertionError):
        F.dropout(torch.ones(3))  # the patch is in force
    x = torch.ones(1000, requires_grad=True)
    y = dropout(x, 0.5, generator=_gen("cpu", 0))
    y.sum().backward()
    assert set(y.unique().tolist()) == {0.0, 2.0}
    assert (Dropout(0.5)(x) == 0).any()
