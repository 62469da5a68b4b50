"""reglab.early_stopping: hand-computed sequences as oracles (patience,
min_delta in both modes, NaN/inf), restore_best_weights against snapshots
of a real nn.Linear, and the integration with reglab.fit."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from reglab.early_stopping import EarlyStopping
from reglab.train import evaluate, fit

NAN, INF = math.nan, math.inf
F, T = False, True

# (constructor kwargs, values, returns of step, best, best_epoch, wait,
#  stopped_epoch) — worked out by hand from the rule in the contract:
# "min": improves iff v < best - min_delta; "max": v > best + min_delta;
# stop once `patience` consecutive epochs bring no improvement.
SEQUENCES = [
    # 1.0 ✓, 0.8 ✓, 0.9 ✗(wait 1), 0.85 ✗(wait 2 = patience) → stop at 3
    ({"patience": 2}, [1.0, 0.8, 0.9, 0.85], [F, F, F, T], 0.8, 1, 2, 3),
    # equal is not better: 0.5 ✓, 0.5 ✗, 0.4 ✓, 0.4 ✗, 0.4 ✗
    ({"patience": 3}, [0.5, 0.5, 0.4, 0.4, 0.4], [F, F, F, F, F], 0.4, 2,
     2, None),
    # min_delta=0.5 (exact binary numbers): 9.5 is not < 10 - 0.5; 9.25 is;
    # 9.0 and 8.75 are not < 9.25 - 0.5 = 8.75 → stop at epoch 4
    ({"patience": 2, "min_delta": 0.5}, [10.0, 9.5, 9.25, 9.0, 8.75],
     [F, F, F, F, T], 9.25, 2, 2, 4),
    # "max" with min_delta=0.5, patience 1: 1.5 is not > 1 + 0.5 → stop at
    # 1; stepping on, 2.25 ✓, 2.5 ✗ (True again), 3 ✓; stopped_epoch = 1
    ({"patience": 1, "min_delta": 0.5, "mode": "max"},
     [1.0, 1.5, 2.25, 2.5, 3.0], [F, T, F, T, F], 3.0, 4, 0, 1),
    # "max", patience 3: 0.5 ✓, 0.5 ✗, 0.6 ✓, then three ✗ → stop at 5
    ({"patience": 3, "mode": "max"}, [0.5, 0.5, 0.6, 0.6, 0.59, 0.6],
     [F, F, F, F, F, T], 0.6, 2, 3, 5),
    # patience 0 (Keras' default): stop at the first epoch without
    # improvement
    ({"patience": 0}, [3.0, 2.0, 2.0], [F, F, T], 2.0, 1, 1, 2),
    # NaN and ±inf never improve, in either position
    ({"patience": 2}, [NAN, 1.0, -INF, INF, NAN], [F, F, F, T, T], 1.0, 1,
     3, 3),
    ({"patience": 1}, [NAN], [T], INF, None, 1, 0),
    ({"patience": 5, "mode": "max"}, [INF, NAN, 2.0, -INF],
     [F, F, F, F], 2.0, 2, 1, None),
    # min_delta in "min" mode with a decreasing but slowing loss: 2.875
    # and 2.75 are not < 3 - 0.25 → stop at 3 although the loss still falls
    ({"patience": 2, "min_delta": 0.25}, [4.0, 3.0, 2.875, 2.75],
     [F, F, F, T], 3.0, 1, 2, 3),
]


@pytest.mark.parametrize(
    "kwargs, values, returns, best, best_epoch, wait, stopped", SEQUENCES)
def test_hand_computed_sequences(kwargs, values, returns, best, best_epoch,
                                 wait, stopped):
    es = EarlyStopping(**kwargs)
    assert [es.step(v) for v in values] == returns
    assert es.best == best and es.best_epoch == best_epoch
    assert es.wait == wait and es.stopped_epoch == stopped
    assert es.epoch == len(values)


def test_sequence_table_is_consistent_with_a_direct_rule():
    """An independent restatement of the rule over random sequences."""
    rng = np.random.RandomState(0)
    for trial in range(200):
        mode = ("min", "max")[trial % 2]
        patience, delta = int(rng.randint(0, 4)), float(rng.choice(
            [0.0, 0.1]))
        values = rng.choice([0.0, 0.5, 1.0, 1.1, 1.2, NAN, INF],
                            size=12).tolist()
        es = EarlyStopping(patience, delta, mode)
        sign = 1.0 if mode == "min" else -1.0
        best, since, first_stop = INF, 0, None
        for t, v in enumerate(values):
            better = math.isfinite(v) and sign * v < best - delta
            if better:
                best, since = sign * v, 0
            else:
                since += 1
            stop = not better and since >= patience
            if stop and first_stop is None:
                first_stop = t
            assert es.step(v) == stop
        assert es.best == sign * best and es.stopped_epoch == first_stop


def test_accepts_python_numpy_and_0d_tensor_values():
    a, b, c = EarlyStopping(1), EarlyStopping(1), EarlyStopping(1)
    loss = torch.tensor(0.5, requires_grad=True) * 2
    for x, y, z in [(1.0, np.float32(1.0), loss), (2, np.float64(2.0),
                                                    torch.tensor([2.0]))]:
        assert a.step(x) == b.step(y) == c.step(z)
    assert a.best == b.best == c.best == 1.0
    assert isinstance(c.best, float)


def test_reset_forgets_the_run():
    es = EarlyStopping(patience=0, restore_best_weights=True)
    net = nn.Linear(2, 1)
    es.step(1.0, net), es.step(2.0, net)
    es.reset()
    assert (es.best, es.best_epoch, es.wait, es.stopped_epoch, es.epoch,
            es.best_state) == (INF, None, 0, None, 0, None)
    assert EarlyStopping(mode="max").best == -INF


def _train_one_epoch(net, opt, X, y):
    opt.zero_grad()
    nn.functional.mse_loss(net(X), y).backward()
    opt.step()


def _snapshot(net):
    return {k: v.clone() for k, v in net.state_dict().items()}


def _assert_weights_equal(net, state):
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k


def test_restore_best_weights_gives_back_exactly_the_best_epoch():
    """A real nn.Linear is trained one SGD step per "epoch"; the monitored
    values make epoch 2 the best and stop at epoch 4 (patience 2)."""
    torch.manual_seed(0)
    X, y = torch.randn(16, 3), torch.randn(16, 1)
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    es = EarlyStopping(patience=2, restore_best_weights=True)
    snapshots, returned = [], []
    for value in [3.0, 2.0, 1.0, 1.5, 1.7]:
        _train_one_epoch(net, opt, X, y)
        snapshots.append(_snapshot(net))
        returned.append(es.step(value, net))
    assert returned == [F, F, F, F, T] and es.best_epoch == 2
    # Stopping loaded the best weights back (Keras' behaviour) ...
    _assert_weights_equal(net, snapshots[2])
    assert not all(torch.equal(net.state_dict()[k], snapshots[4][k])
                   for k in snapshots[4])
    # ... and the stored copy is independent of further training.
    for p, q in zip(es.best_state.values(), net.parameters()):
        assert p.data_ptr() != q.data_ptr() and not p.requires_grad
    for _ in range(3):
        _train_one_epoch(net, opt, X, y)
    for k, v in es.best_state.items():
        assert torch.equal(v, snapshots[2][k])
    es.restore(net)
    _assert_weights_equal(net, snapshots[2])
    es.restore(net)  # twice is fine: the copy was not consumed
    _assert_weights_equal(net, snapshots[2])


def test_without_restore_the_weights_are_left_alone():
    net = nn.Linear(2, 1)
    es = EarlyStopping(patience=0)
    es.step(1.0, net)
    before = _snapshot(net)
    with torch.no_grad():
        net.weight.add_(1.0)
    assert es.step(2.0, net) is True and es.best_state is None
    assert torch.equal(net.weight, before["weight"] + 1.0)


def test_restore_when_training_ran_to_the_end_without_stopping():
    torch.manual_seed(1)
    net = nn.Linear(2, 2)
    es = EarlyStopping(patience=10, restore_best_weights=True)
    es.step(1.0, net)
    best = _snapshot(net)
    with torch.no_grad():
        net.bias.zero_()
    assert es.step(1.5, net) is False
    es.restore(net)
    _assert_weights_equal(net, best)


def _loaders():
    """Full-batch regression whose validation targets are half the training
    targets: from zero weights the model passes through the validation
    optimum on its way to the training optimum, so the validation loss is
    U-shaped."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 4, generator=g)
    y = X @ torch.tensor([[2.0], [-1.0], [0.5], [1.5]])
    train = DataLoader(TensorDataset(X, y), batch_size=64)
    val = DataLoader(TensorDataset(X, 0.5 * y), batch_size=64)
    return train, val


def _zero_linear():
    net = nn.Linear(4, 1)
    nn.init.zeros_(net.weight), nn.init.zeros_(net.bias)
    return net


def test_integration_with_fit_stops_and_restores_the_best_epoch():
    train, val = _loaders()
    net = _zero_linear()
    es = EarlyStopping(patience=3, restore_best_weights=True)
    hist = fit(net, train, loss_fn=nn.functional.mse_loss,
               optimizer=torch.optim.SGD(net.parameters(), lr=0.05),
               epochs=200, val_loader=val, early_stopping=es, device="cpu",
               progress=False)
    best = int(np.argmin(hist.val_loss))
    assert 0 < best < 100  # a genuine U shape, not a stop at once
    assert es.best_epoch == best and es.best == min(hist.val_loss)
    assert hist.stopped_epoch == es.stopped_epoch == best + 3
    assert hist.epochs == best + 4
    # The model now holds the weights of the end of epoch `best`: the same
    # as a plain run of best + 1 epochs.
    ref = _zero_linear()
    opt = torch.optim.SGD(ref.parameters(), lr=0.05)
    for _ in range(best + 1):
        for xb, yb in train:
            _train_one_epoch(ref, opt, xb, yb)
    for p, q in zip(net.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q)
    assert evaluate(net, val, loss_fn=nn.functional.mse_loss,
                    device="cpu") == pytest.approx(hist.val_loss[best],
                                                   rel=1e-6)


def test_integration_with_fit_without_restore_keeps_last_weights():
    train, val = _loaders()
    net = _zero_linear()
    es = EarlyStopping(patience=2)
    hist = fit(net, train, loss_fn=nn.functional.mse_loss,
               optimizer=torch.optim.SGD(net.parameters(), lr=0.05),
               epochs=200, val_loader=val, early_stopping=es, device="cpu",
               progress=False)
    assert hist.stopped_epoch == es.best_epoch + 2
    final = evaluate(net, val, loss_fn=nn.functional.mse_loss,
                     device="cpu")
    assert final == pytest.approx(hist.val_loss[-1], rel=1e-6)
    assert final > es.best


def test_docstring_mentions_keras_and_lightning_defaults():
    doc = EarlyStopping.__doc__
    assert "patience=0" in doc and "patience=3" in doc
    assert "Prechelt" in doc
    assert repr(EarlyStopping()) == (
        "EarlyStopping(patience=5, min_delta=0.0, mode='min', "
        "restore_best_weights=False)")


_ES = EarlyStopping()
_ES_RESTORE = EarlyStopping(restore_best_weights=True)
_NET = nn.Linear(1, 1)

# (callable, args, kwargs, exception type, message regex)
BAD_INPUT = [
    (EarlyStopping, (-1,), {}, ValueError,
     r"^The 'patience' parameter of EarlyStopping must be an int >= 0\. "
     r"Got -1 instead\.$"),
    (EarlyStopping, (1.5,), {}, TypeError, r"'patience'.*an int.*Got 1.5"),
    (EarlyStopping, (), {"min_delta": -0.1}, ValueError,
     r"'min_delta'.*>= 0.*Got -0.1"),
    (EarlyStopping, (), {"min_delta": float("nan")}, ValueError,
     r"'min_delta'.*Got nan"),
    (EarlyStopping, (), {"mode": "auto"}, ValueError,
     r"'mode'.*one of \{'min', 'max'\}.*Got 'auto'"),
    (EarlyStopping, (), {"restore_best_weights": 1}, TypeError,
     r"'restore_best_weights'.*a bool.*Got 1"),
    (_ES.step, ("0.5",), {}, TypeError,
     r"'value'.*a number or a tensor.*Got '0.5'"),
    (_ES.step, (torch.ones(2),), {}, TypeError,
     r"'value'.*one element.*shape \(2,\)"),
    (_ES.step, (1.0, "net"), {}, TypeError, r"'model'.*Module.*str"),
    (_ES.restore, (_NET,), {}, RuntimeError,
     r"no stored weights.*restore_best_weights=False"),
    (_ES_RESTORE.restore, (_NET,), {}, RuntimeError,
     r"no stored weights.*no epoch has improved yet"),
    (_ES.restore, ("net",), {}, TypeError, r"'model'.*Module.*str"),
]


def test_restore_without_model_in_step_says_so():
    es = EarlyStopping(restore_best_weights=True)
    es.step(1.0)
    with pytest.raises(RuntimeError, match=r"never given the model"):
        es.restore(nn.Linear(1, 1))


def test_deepcopy_of_state_is_not_shared_with_the_module():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    es = EarlyStopping(restore_best_weights=True)
    es.step(1.0, net)
    saved = copy.deepcopy(es.best_state)
    net.train()
    net(torch.randn(8, 2))  # updates the running statistics in place
    for k in saved:
        assert torch.equal(es.best_state[k], saved[k]), k
