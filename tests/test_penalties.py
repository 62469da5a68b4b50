"""reglab.penalties against independent oracles: torch.linalg norms,
autograd, torch.optim.SGD's weight_decay, and scikit-learn's ElasticNet
parametrisation."""

import pytest
import torch
from torch import nn

import reglab
from reglab import elastic_net_penalty, l1_penalty, l2_penalty, weights_only
from tests.conftest import tolerances

SHAPES = [[(3,)], [(4, 5), (5,)], [(2, 3, 4), (7,), ()]]


def _params(shapes, dtype, device, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g, dtype=dtype).to(device)
            .requires_grad_() for s in shapes]


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_values_match_linalg_norms(shapes, seed, dtype, device):
    ps = _params(shapes, dtype, device, seed)
    flat = torch.cat([p.detach().reshape(-1) for p in ps])
    tol = tolerances(dtype)
    torch.testing.assert_close(
        l1_penalty(ps), torch.linalg.vector_norm(flat, ord=1), **tol)
    torch.testing.assert_close(
        l2_penalty(ps), 0.5 * torch.linalg.vector_norm(flat) ** 2, **tol)
    for rho in (0.0, 0.3, 1.0):
        expected = (rho * torch.linalg.vector_norm(flat, ord=1)
                    + (1 - rho) * 0.5 * torch.linalg.vector_norm(flat) ** 2)
        torch.testing.assert_close(
            elastic_net_penalty(ps, l1_ratio=rho), expected, **tol)


@pytest.mark.parametrize("shapes", SHAPES)
def test_gradients_closed_form(shapes, dtype, device):
    """∇ ½Σw² = w and ∇ Σ|w| = sign(w), by autograd."""
    ps = _params(shapes, dtype, device, 3)
    grads = torch.autograd.grad(l2_penalty(ps), ps)
    for p, g in zip(ps, grads):
        torch.testing.assert_close(g, p.detach(), **tolerances(dtype))
    grads = torch.autograd.grad(l1_penalty(ps), ps)
    for p, g in zip(ps, grads):
        torch.testing.assert_close(g, torch.sign(p.detach()))


def test_l2_gradcheck():
    ps = _params([(3, 2), (4,)], torch.float64, "cpu", 0)
    assert torch.autograd.gradcheck(lambda *ws: l2_penalty(ws), ps)
    assert torch.autograd.gradcheck(
        lambda *ws: elastic_net_penalty(ws, 0.25), ps)


def test_sgd_on_penalised_loss_equals_weight_decay():
    """The ½ convention: 100 steps of SGD on loss + λ·l2_penalty follow the
    trajectory of torch.optim.SGD(weight_decay=λ)."""
    torch.manual_seed(0)
    X, y = torch.randn(64, 5), torch.randn(64, 1)
    a, b = nn.Linear(5, 1), nn.Linear(5, 1)
    b.load_state_dict(a.state_dict())
    lam, lr = 0.1, 0.05
    opt_a = torch.optim.SGD(a.parameters(), lr=lr)
    opt_b = torch.optim.SGD(b.parameters(), lr=lr, weight_decay=lam)
    for _ in range(100):
        for model, opt, pen in ((a, opt_a, lam), (b, opt_b, 0.0)):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(X), y)
            (loss + pen * l2_penalty(model.parameters())).backward()
            opt.step()
        for pa, pb in zip(a.parameters(), b.parameters()):
            torch.testing.assert_close(pa, pb)


def test_generator_input_is_consumed_once():
    model = nn.Linear(3, 2)
    expected = 0.5 * sum((p.detach() ** 2).sum() for p in model.parameters())
    torch.testing.assert_close(l2_penalty(model.parameters()), expected)


def test_weights_only_selects_linear_and_conv_weights():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(),
                        nn.Linear(8, 4), nn.LayerNorm(4), nn.Linear(4, 1))
    got = {id(p) for p in weights_only(net)}
    expected = {id(net[0].weight), id(net[3].weight), id(net[5].weight)}
    assert got == expected
    named = dict(net.named_parameters())
    assert not any(id(named[n]) in got for n in named if "bias" in n)


def test_penalties_do_not_call_torch_norms(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("a built-in norm was called")

    monkeypatch.setattr(torch, "norm", boom)
    monkeypatch.setattr(torch.linalg, "vector_norm", boom)
    monkeypatch.setattr(torch.linalg, "norm", boom)
    ps = [torch.randn(3, 2)]
    assert l1_penalty(ps) > 0
    assert l2_penalty(ps) > 0
    assert elastic_net_penalty(ps) > 0


def test_reexported_from_top_level():
    assert reglab.l2_penalty is l2_penalty
    assert reglab.penalties.l1_penalty is l1_penalty
