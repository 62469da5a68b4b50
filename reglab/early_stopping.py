r"""Early stopping (book chapter "Early stopping").

Training for longer lowers the training loss but, past some epoch, raises
the validation loss: the network starts to fit the noise. Early stopping
watches a validation quantity :math:`v_t` after each epoch :math:`t` and
stops once it has stopped improving. In ``"min"`` mode, with patience
:math:`r` and tolerance :math:`\delta` = ``min_delta``:

.. math::

    v^\star_{-1} = +\infty, \qquad
    \text{epoch } t \text{ improves} \iff v_t < v^\star_{t-1} - \delta,

    v^\star_t = \begin{cases} v_t & \text{if epoch } t \text{ improves} \\
                              v^\star_{t-1} & \text{otherwise,} \end{cases}
    \qquad
    \mathrm{wait}_t = \begin{cases}
        0 & \text{if epoch } t \text{ improves} \\
        \mathrm{wait}_{t-1} + 1 & \text{otherwise,} \end{cases}

and training stops at the first epoch :math:`t` with
:math:`\mathrm{wait}_t \ge \max(r, 1)` (``"max"`` mode flips the signs).
NaN and :math:`\pm\infty` never improve. Optionally the weights of the
best epoch are kept and restored.

Reference: L. Prechelt, "Early stopping — but when?", in *Neural Networks:
Tricks of the Trade*, LNCS 1524, Springer, 1998, pp. 55–69.
"""

from __future__ import annotations

import copy
import math
import numbers

import torch
from torch import nn

from ._validation import check_bool, check_choice, check_float, check_int

__all__ = ["EarlyStopping"]


class EarlyStopping:
    r"""Stop training once a monitored value has stopped improving.

    Call :meth:`step` once per epoch with the monitored value (typically
    the validation loss); it returns ``True`` when training should stop.
    :func:`reglab.fit` does this for you through its ``early_stopping``
    argument.

    The algorithm, in ``"min"`` mode (``"max"`` flips the comparisons)::

        best = +inf; wait = 0
        after epoch t with value v:
            if v < best - min_delta:      # an improvement
                best, best_epoch, wait = v, t, 0
                (keep a copy of the weights if restore_best_weights)
            else:
                wait += 1
                if wait >= patience: stop (stopped_epoch = t)

    So training stops once ``patience`` consecutive epochs bring no
    improvement; with ``patience=0`` it stops at the first epoch that does
    not improve. NaN and infinite values never count as an improvement:
    they are epochs without improvement, so a diverging run stops after
    ``patience`` epochs rather than at once.

    **The same thing in Keras and Lightning.** This counting is theirs:

    - Keras: ``keras.callbacks.EarlyStopping(monitor="val_loss",
      min_delta=0, patience=0, mode="auto", restore_best_weights=False)``.
    - Lightning: ``lightning.pytorch.callbacks.EarlyStopping(monitor,
      min_delta=0.0, patience=3, mode="min")``.

    Differences, by design:

    - the defaults: ``patience=5`` here, 0 in Keras, 3 in Lightning;
      ``mode="min"`` here and in Lightning, ``"auto"`` in Keras;
    - there is no ``monitor`` name: :meth:`step` receives the value itself;
    - a negative ``min_delta`` or an unknown ``mode`` raises ``ValueError``
      (Keras takes ``abs(min_delta)`` and warns and falls back to
      ``"auto"`` for an unknown mode);
    - NaN/inf count as "no improvement", as in Keras; Lightning (with its
      default ``check_finite=True``) stops at once on a non-finite value;
    - ``stopped_epoch`` is ``None`` until a stop (Keras uses 0);
    - with ``restore_best_weights=True``, the best weights are loaded back
      into the model when :meth:`step` returns ``True`` (Keras loads them
      at the end of training). If training ends without an early stop,
      call :meth:`restore` yourself. Lightning has no such option (use its
      ``ModelCheckpoint``).

    Args:
        patience: the number of consecutive epochs without improvement
            after which training stops (≥ 0).
        min_delta: the margin :math:`\delta \ge 0` by which a value must
            beat the best so far to count as an improvement.
        mode: ``"min"`` for a loss, ``"max"`` for a score such as accuracy.
        restore_best_weights: keep a copy of the model's ``state_dict`` at
            the best epoch (needs the model passed to :meth:`step`).

    Attributes:
        best: the best value so far (``+inf`` in ``"min"`` mode and
            ``-inf`` in ``"max"`` mode before any improvement).
        best_epoch: the 0-based epoch that gave ``best`` (``None`` before
            any improvement).
        wait: the number of epochs since the last improvement.
        stopped_epoch: the 0-based epoch at which :meth:`step` first
            returned ``True``, else ``None``.
        epoch: the number of calls of :meth:`step` so far.

    Raises:
        ValueError: for a negative ``patience`` or ``min_delta``, or a
            ``mode`` other than ``"min"``/``"max"``.
        TypeError: for arguments of the wrong type.

    Example:
        >>> es = EarlyStopping(patience=2)
        >>> [es.step(v) for v in [1.0, 0.8, 0.9, 0.85]]
        [False, False, False, True]
        >>> es.best, es.best_epoch, es.wait, es.stopped_epoch
        (0.8, 1, 2, 3)

    References:
        L. Prechelt, "Early stopping — but when?", 1998. Book chapter
        "Early stopping".
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0,
                 mode: str = "min", restore_best_weights: bool = False):
        owner = "EarlyStopping"
        self.patience = check_int(patience, "patience", owner, low=0)
        self.min_delta = check_float(min_delta, "min_delta", owner,
                                     low=0.0)
        self.mode = check_choice(mode, "mode", owner, ("min", "max"))
        self.restore_best_weights = check_bool(
            restore_best_weights, "restore_best_weights", owner)
        self.reset()

    def reset(self) -> None:
        """Forget all epochs seen so far, to reuse the object in a new run.

        Example:
            >>> es = EarlyStopping(patience=0)
            >>> es.step(1.0), es.step(2.0)
            (False, True)
            >>> es.reset(); es.epoch, es.stopped_epoch
            (0, None)
        """
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.epoch = 0
        self.best_state: dict | None = None

    def _improves(self, value: float) -> bool:
        if not math.isfinite(value):  # NaN and ±inf never improve
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta  # v < best − δ
        return value > self.best + self.min_delta  # v > best + δ

    def step(self, value, model: nn.Module | None = None) -> bool:
        """Record one epoch's monitored value; ``True`` means "stop now".

        Args:
            value: the monitored value of this epoch: a Python or NumPy
                number, or a tensor with one element (e.g. a 0-d loss).
            model: the model being trained. Needed with
                ``restore_best_weights=True``: its ``state_dict`` is copied
                at each improvement and loaded back when ``step`` returns
                ``True``.

        Returns:
            ``True`` when ``patience`` consecutive epochs have brought no
            improvement, else ``False``.

        Raises:
            TypeError: if ``value`` is not a number or one-element tensor,
                or ``model`` is not an ``nn.Module``.

        Example:
            >>> es = EarlyStopping(patience=1, mode="max", min_delta=0.01)
            >>> es.step(0.90), es.step(0.905), es.best
            (False, True, 0.9)
        """
        value = _as_float(value)
        if model is not None and not isinstance(model, nn.Module):
            raise TypeError(
                "The 'model' parameter of EarlyStopping.step must be a "
                "torch.nn.Module or None. Got an object of type "
                f"{type(model).__name__} instead.")
        epoch = self.epoch
        self.epoch += 1
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights and model is not None:
                self.best_state = _copy_state(model)
            return False
        self.wait += 1
        if self.wait < self.patience:
            return False
        if self.stopped_epoch is None:
            self.stopped_epoch = epoch
            if model is not None and self.best_state is not None:
                self.restore(model)  # Keras: back to the best epoch
        return True

    def restore(self, model: nn.Module) -> None:
        """Load the stored best weights back into ``model``.

        Args:
            model: the model whose ``state_dict`` was copied by
                :meth:`step`.

        Raises:
            RuntimeError: if no weights are stored: the object was built
                with ``restore_best_weights=False``, :meth:`step` never
                received a model, or no epoch has improved yet.
            TypeError: if ``model`` is not an ``nn.Module``.

        Example:
            >>> net = nn.Linear(2, 1)
            >>> es = EarlyStopping(restore_best_weights=True)
            >>> _ = es.step(1.0, net)
            >>> with torch.no_grad():
            ...     _ = net.weight.fill_(7.0)
            >>> es.restore(net); bool((net.weight == 7.0).any())
            False
        """
        if not isinstance(model, nn.Module):
            raise TypeError(
                "The 'model' parameter of EarlyStopping.restore must be a "
                "torch.nn.Module. Got an object of type "
                f"{type(model).__name__} instead.")
        if self.best_state is None:
            if not self.restore_best_weights:
                why = "it was built with restore_best_weights=False"
            elif self.best_epoch is None:
                why = "no epoch has improved yet"
            else:
                why = "step(value, model) was never given the model"
            raise RuntimeError(
                f"EarlyStopping.restore has no stored weights to load: "
                f"{why}. Build it with restore_best_weights=True and call "
                f"step(value, model) once per epoch.")
        model.load_state_dict(self.best_state)  # copies, keeps ours intact

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r}, "
                f"restore_best_weights={self.restore_best_weights})")


def _as_float(value) -> float:
    """A monitored value as a Python float (a NaN stays a NaN)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(
                "The 'value' parameter of EarlyStopping.step must be a "
                "number or a tensor with one element. Got a tensor of shape "
                f"{tuple(value.shape)} instead.")
        return float(value.detach().item())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise TypeError(
        "The 'value' parameter of EarlyStopping.step must be a number or a "
        f"tensor with one element. Got {value!r} instead.")


def _copy_state(model: nn.Module) -> dict:
    """A deep copy of ``model.state_dict()``: tensors detached and cloned,
    so that further training cannot change it."""
    return {k: v.detach().clone() if isinstance(v, torch.Tensor)
            else copy.deepcopy(v) for k, v in model.state_dict().items()}
