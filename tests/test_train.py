"""reglab.train: fit against a hand-written loop with torch built-ins,
evaluate against a full-batch computation, and the error paths."""

import copy

import matplotlib
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from reglab import History, evaluate, fit, l2_penalty

matplotlib.use("Agg")


def _data(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(
        n, 1, generator=g)
    return X, y


def _loader(X, y, batch_size=8):
    return DataLoader(TensorDataset(X, y), batch_size=batch_size)


def test_fit_equals_a_plain_torch_loop():
    """Same batches, same optimizer: fit must produce the same weights and
    the batch-size-weighted mean losses of a hand-written loop."""
    X, y = _data()
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    b = copy.deepcopy(a)
    lam = 0.01
    hist = fit(a, _loader(X, y), loss_fn=nn.functional.mse_loss,
               optimizer=torch.optim.SGD(a.parameters(), lr=0.05),
               epochs=3, penalty=lambda m: lam * l2_penalty(m.parameters()),
               val_loader=_loader(X[:10], y[:10]), device="cpu",
               progress=False)
    opt = torch.optim.SGD(b.parameters(), lr=0.05, weight_decay=lam)
    losses = []
    for _ in range(3):
        total = 0.0
        for xb, yb in _loader(X, y):
            opt.zero_grad()
            loss = nn.functional.mse_loss(b(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        losses.append(total / len(X))
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)
    assert hist.train_loss == pytest.approx(losses)
    with torch.no_grad():
        final_val = nn.functional.mse_loss(b(X[:10]), y[:10]).item()
    assert hist.val_loss[-1] == pytest.approx(final_val, rel=1e-6)
    assert hist.lr == [0.05] * 3 and hist.epochs == 3


def test_fit_switches_train_and_eval_modes():
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 1)

        def forward(self, x):
            seen.append(self.training)
            return self.lin(x)

    X, y = _data(16)
    model = Spy()
    fit(model, _loader(X, y, 16), loss_fn=nn.functional.mse_loss,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=1,
        val_loader=_loader(X, y, 16), device="cpu", progress=False)
    assert seen == [True, False]


def test_scheduler_and_early_stopping_are_called():
    X, y = _data()
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    class StopAtThird:
        def __init__(self):
            self.calls = 0

        def step(self, value, model=None):
            self.calls += 1
            return self.calls == 3

    hist = fit(model, _loader(X, y), loss_fn=nn.functional.mse_loss,
               optimizer=opt, epochs=10, scheduler=sched,
               early_stopping=StopAtThird(), device="cpu", progress=False)
    assert hist.epochs == 3 and hist.stopped_epoch == 2
    assert hist.lr == [0.1, 0.05, 0.025]


def test_nan_loss_stops_with_clear_error():
    X, y = _data()
    X[5, 0] = float("nan")
    model = nn.Linear(3, 1)
    with pytest.raises(FloatingPointError, match="epoch 0, batch 0"):
        fit(model, _loader(X, y), loss_fn=nn.functional.mse_loss,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            epochs=1, device="cpu", progress=False)


def test_progress_summary_when_book_build(monkeypatch, capsys):
    monkeypatch.setenv("REGLAB_PROGRESS", "0")
    X, y = _data()
    model = nn.Linear(3, 1)
    fit(model, _loader(X, y), loss_fn=nn.functional.mse_loss,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=2,
        device="cpu")
    out = capsys.readouterr()
    assert out.out.startswith("fit: 2 epoch(s)") and out.err == ""


def test_progress_bar_goes_to_stderr(monkeypatch, capsys):
    monkeypatch.delenv("REGLAB_PROGRESS", raising=False)
    X, y = _data()
    model = nn.Linear(3, 1)
    fit(model, _loader(X, y), loss_fn=nn.functional.mse_loss,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=2,
        device="cpu")
    assert "epochs" in capsys.readouterr().err


def test_evaluate_weights_batches_by_size():
    X, y = _data(21)
    model = nn.Linear(3, 1)
    model.train()
    got = evaluate(model, _loader(X, y, 8), loss_fn=nn.functional.mse_loss,
                   device="cpu")
    with torch.no_grad():
        expected = nn.functional.mse_loss(model(X), y).item()
    assert got == pytest.approx(expected, rel=1e-6)
    assert model.training


def test_history_plot_returns_axes():
    h = History(train_loss=[3.0, 2.0], val_loss=[3.5, 2.5], lr=[0.1, 0.1])
    ax = h.plot(label="λ=0")
    assert len(ax.lines) == 2 and ax.get_xlabel() == "epoch"
