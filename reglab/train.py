"""The training loop that every chapter uses.

:func:`fit` is the loop of the chapter "Gradient-based optimisation" —
``zero_grad`` → forward → loss (+ penalty) → ``backward`` → ``step`` — with
the bookkeeping a reader would otherwise rewrite each time: devices,
``model.train()``/``model.eval()``, a validation pass, a learning-rate
scheduler, early stopping, and a progress bar.

Progress bars: ``tqdm.auto`` shows a bar in Jupyter and in a terminal. The
book build sets the environment variable ``REGLAB_PROGRESS=0``, which turns
bars into a one-line summary per call, because a widget bar needs
JavaScript that an offline built page does not have.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ._validation import check_bool, check_int, param_error
from .device import get_device

__all__ = ["History", "evaluate", "fit"]


@dataclass
class History:
    """Per-epoch records of a :func:`fit` call.

    Attributes:
        train_loss: mean data loss over the training batches of each epoch
            (without the penalty, so runs with different λ compare).
        val_loss: mean loss on ``val_loader`` after each epoch (empty if
            there was none).
        lr: the learning rate of the first parameter group in each epoch.
        metrics: extra per-epoch series, by name.
        stopped_epoch: the 0-based epoch at which early stopping fired,
            else ``None``.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    stopped_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """The number of epochs run."""
        return len(self.train_loss)

    def plot(self, ax=None, *, logy: bool = False, label: str | None = None):
        """Draw the training (solid) and validation (dashed) loss against
        the epoch and return the matplotlib ``Axes``."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        prefix = f"{label}: " if label else ""
        epochs = range(1, self.epochs + 1)
        (line,) = ax.plot(epochs, self.train_loss, label=f"{prefix}train")
        if self.val_loss:
            ax.plot(range(1, len(self.val_loss) + 1), self.val_loss, "--",
                    color=line.get_color(), label=f"{prefix}validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        if logy:
            ax.set_yscale("log")
        ax.legend()
        return ax


def _progress_mode(progress: bool) -> str:
    """``"bar"``, ``"summary"`` (book build) or ``"off"``."""
    if not progress:
        return "off"
    if os.environ.get("REGLAB_PROGRESS", "1").lower() in ("0", "off"):
        return "summary"
    return "bar"


def _to(batch, device):
    return [t.to(device, non_blocking=True) for t in batch]


def fit(model: nn.Module, train_loader, *, loss_fn: Callable, optimizer,
        epochs: int, val_loader=None, penalty: Callable | None = None,
        early_stopping=None, scheduler=None, device=None,
        progress: bool = True,
        metrics: dict[str, Callable] | None = None) -> History:
    r"""Train ``model`` and return its :class:`History`.

    Each step minimises :math:`L(\theta) + \Omega(\theta)` on one batch,
    where :math:`\Omega` = ``penalty(model)`` (already multiplied by its
    λ by the caller, e.g. ``lambda m: lam * l2_penalty(weights_only(m))``).

    Args:
        model: the network.
        train_loader: an iterable of ``(inputs, targets)`` batches.
        loss_fn: ``loss_fn(outputs, targets)`` → mean loss of a batch.
        optimizer: a ``torch.optim.Optimizer`` over ``model``'s parameters.
        epochs: the maximum number of epochs (≥ 1).
        val_loader: batches for the per-epoch validation loss.
        penalty: ``penalty(model)`` → a 0-d tensor added to the loss.
        early_stopping: an object with ``step(value, model) -> bool``
            (e.g. ``reglab.EarlyStopping``), given the validation loss (or
            the training loss without ``val_loader``) after each epoch.
        scheduler: a ``torch.optim.lr_scheduler`` stepped once per epoch
            (``ReduceLROnPlateau`` gets the monitored loss).
        device: where to train; default :func:`reglab.get_device`.
        progress: show a ``tqdm.auto`` progress bar over epochs.
        metrics: extra functions ``f(outputs, targets)`` evaluated on
            ``val_loader`` each epoch, stored in ``History.metrics``.

    Returns:
        The :class:`History`.

    Raises:
        FloatingPointError: when the training loss becomes NaN or infinite.
    """
    if not isinstance(model, nn.Module):
        raise param_error("model", "fit", "a torch.nn.Module", model,
                          exc=TypeError)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise param_error("optimizer", "fit", "a torch.optim.Optimizer",
                          optimizer, exc=TypeError)
    if not callable(loss_fn):
        raise param_error("loss_fn", "fit", "a callable", loss_fn,
                          exc=TypeError)
    epochs = check_int(epochs, "epochs", "fit", low=1)
    check_bool(progress, "progress", "fit")
    device = get_device() if device is None else torch.device(device)
    model.to(device)
    history = History()
    mode = _progress_mode(progress)
    bar = range(epochs)
    if mode == "bar":
        from tqdm.auto import tqdm

        bar = tqdm(bar, desc="epochs", leave=False)

    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for step, (x, y) in enumerate(train_loader):
            x, y = _to((x, y), device)
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"The training loss became {loss.item()} at epoch "
                    f"{epoch}, batch {step}. Lower the learning rate or "
                    "check the inputs for NaN/inf values.")
            objective = loss if penalty is None else loss + penalty(model)
            objective.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        history.train_loss.append(total / count)
        history.lr.append(optimizer.param_groups[0]["lr"])
        monitored = history.train_loss[-1]
        if val_loader is not None:
            history.val_loss.append(
                evaluate(model, val_loader, loss_fn=loss_fn, device=device))
            monitored = history.val_loss[-1]
            for name, f in (metrics or {}).items():
                history.metrics.setdefault(name, []).append(
                    evaluate(model, val_loader, metric=f, device=device))
        if mode == "bar":
            shown = {"train": f"{history.train_loss[-1]:.4g}"}
            if history.val_loss:
                shown["val"] = f"{history.val_loss[-1]:.4g}"
            bar.set_postfix(shown)
        if scheduler is not None:
            plateau = torch.optim.lr_scheduler.ReduceLROnPlateau
            if isinstance(scheduler, plateau):
                scheduler.step(monitored)
            else:
                scheduler.step()
        if early_stopping is not None and early_stopping.step(monitored,
                                                              model):
            history.stopped_epoch = epoch
            break
    if mode == "bar":
        bar.close()
    if mode == "summary":
        line = (f"fit: {history.epochs} epoch(s), final train loss "
                f"{history.train_loss[-1]:.4g}")
        if history.val_loss:
            line += f", validation loss {history.val_loss[-1]:.4g}"
        print(line)
    return history


@torch.no_grad()
def evaluate(model: nn.Module, loader, *, loss_fn: Callable | None = None,
             metric: Callable | None = None, device=None) -> float:
    """Average ``loss_fn`` or ``metric`` over ``loader`` in eval mode.

    The average is weighted by batch size, so it equals the value on the
    whole data set for mean-reduced losses. The model's train/eval mode is
    restored afterwards.

    Args:
        model: the network.
        loader: an iterable of ``(inputs, targets)`` batches.
        loss_fn: ``loss_fn(outputs, targets)`` → mean loss of a batch.
        metric: ``metric(outputs, targets)`` → mean score of a batch;
            give exactly one of ``loss_fn`` and ``metric``.
        device: default :func:`reglab.get_device`.

    Returns:
        A float.
    """
    if (loss_fn is None) == (metric is None):
        raise ValueError(
            "evaluate needs exactly one of the 'loss_fn' and 'metric' "
            f"parameters. Got loss_fn={loss_fn!r}, metric={metric!r} "
            "instead.")
    f = loss_fn if loss_fn is not None else metric
    device = get_device() if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        for x, y in loader:
            x, y = _to((x, y), device)
            total += float(f(model(x), y)) * len(y)
            count += len(y)
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("The 'loader' parameter of evaluate must yield at "
                         "least one batch. Got an empty loader instead.")
    return total / count
