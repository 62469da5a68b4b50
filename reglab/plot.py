"""Plot helpers shared by the chapters.

Figures use symbols and numbers rather than words where possible, so that
one figure serves both editions of the book.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import check_bool, check_int, param_error

__all__ = ["plot_learning_curves", "plot_regularisation_path",
           "plot_train_val_gap", "plot_weight_histograms", "set_style"]


def set_style() -> None:
    """The book's plotting style: small, readable, colour-blind-safe."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.figsize": (6, 3.6),
        "figure.dpi": 110,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": mpl.cycler(color=[
            "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
            "#56B4E9", "#F0E442", "#000000"]),
        "legend.frameon": False,
    })


def plot_learning_curves(histories: dict, ax=None, *, logy: bool = True):
    """Training (solid) and validation (dashed) loss of several runs, one
    colour and one legend entry per run, keyed by a label such as
    ``"λ=0.01"``.

    Args:
        histories: ``{label: History}``.
        ax: the matplotlib ``Axes`` to draw on (a new figure if ``None``).
        logy: log-scale the loss axis.

    Returns:
        The ``Axes``.
    """
    if not isinstance(histories, dict) or not all(
            hasattr(h, "train_loss") for h in histories.values()):
        raise param_error("histories", "plot_learning_curves",
                          "a dict {label: History}", histories,
                          exc=TypeError)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    for label, h in histories.items():
        epochs = range(1, h.epochs + 1)
        (line,) = ax.plot(epochs, h.train_loss, label=label)
        if h.val_loss:
            ax.plot(range(1, len(h.val_loss) + 1), h.val_loss, "--",
                    color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize="small", ncol=2)
    return ax


def _new_axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _as_array(values, name: str, owner: str, ndim=(1,)) -> np.ndarray:
    """A list, array or tensor as a float NumPy array of an allowed
    number of dimensions."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise param_error(name, owner, "a sequence of numbers", values,
                          exc=TypeError) from None
    if a.ndim not in ndim:
        dims = " or ".join(f"{d}-d" for d in ndim)
        raise ValueError(
            f"The {name!r} parameter of {owner} must be {dims}. Got an "
            f"array of shape {a.shape} instead.")
    return a


def plot_train_val_gap(x, train, val, ax=None, *, xlabel: str = "$t$",
                       logx: bool = False, logy: bool = False,
                       mark_best: bool = True):
    r"""Training and validation loss against ``x``, with the gap between
    them shaded — the generalisation gap
    :math:`L_\mathrm{val} - L_\mathrm{train}`.

    ``x`` can be the epoch :math:`t` (the default label), a model size
    such as the polynomial degree :math:`d`, or a penalty :math:`\lambda`
    (then pass ``xlabel=r"$\lambda$"`` and usually ``logx=True``). A dotted
    vertical line marks the ``x`` of the smallest validation loss.

    Args:
        x: the positions, shape ``(m,)`` (a list, array or tensor).
        train: the training loss at each position, shape ``(m,)``.
        val: the validation loss at each position, shape ``(m,)``.
        ax: the matplotlib ``Axes`` to draw on (a new figure if ``None``).
        xlabel: the label of the x-axis (a symbol, so that the figure
            reads the same in both editions).
        logx: log-scale the x-axis (all ``x`` must be > 0).
        logy: log-scale the loss axis.
        mark_best: draw the vertical line at :math:`\arg\min L_\mathrm{val}`.

    Returns:
        The ``Axes``: 2 lines (3 with ``mark_best``) and one shaded area.

    Raises:
        ValueError: if the three sequences differ in length or are not 1-d,
            or ``logx`` with an ``x`` <= 0.

    Example:
        >>> from matplotlib.figure import Figure
        >>> ax = Figure().add_subplot()
        >>> ax = plot_train_val_gap([1, 2, 3], [1.0, 0.5, 0.2],
        ...                         [1.1, 0.8, 0.9], ax)
        >>> len(ax.lines), len(ax.collections)
        (3, 1)
    """
    owner = "plot_train_val_gap"
    x = _as_array(x, "x", owner)
    train = _as_array(train, "train", owner)
    val = _as_array(val, "val", owner)
    for name, a in (("train", train), ("val", val)):
        if len(a) != len(x):
            raise ValueError(
                f"The {name!r} parameter of {owner} must have one value "
                f"per x ({len(x)}). Got {len(a)} values instead.")
    check_bool(logx, "logx", owner)
    check_bool(logy, "logy", owner)
    check_bool(mark_best, "mark_best", owner)
    if logx and np.any(x <= 0):
        raise param_error("x", owner, "> 0 everywhere with logx=True",
                          x.tolist())
    ax = _new_axes(ax)
    (line,) = ax.plot(x, train, label=r"$L_\mathrm{train}$")
    ax.plot(x, val, "--", label=r"$L_\mathrm{val}$")
    ax.fill_between(x, train, val, color=line.get_color(), alpha=0.15,
                    label=r"$L_\mathrm{val} - L_\mathrm{train}$")
    if mark_best and np.any(np.isfinite(val)):
        best = x[np.nanargmin(val)]
        ax.axvline(best, color="0.4", linestyle=":", linewidth=1,
                   label=f"{xlabel} = {best:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("$L$")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    return ax


def plot_regularisation_path(lambdas, coefs, ax=None, *, labels=None,
                             logx: bool = True):
    r"""Each coefficient :math:`w_j(\lambda)` against the penalty strength
    :math:`\lambda` on a log axis — the regularisation path.

    With an L2 penalty the paths shrink smoothly towards 0; with L1 they
    reach exactly 0 one after another (ESL §3.4, Figures 3.8 and 3.10).

    Args:
        lambdas: the penalty strengths, shape ``(m,)``, all > 0 when
            ``logx``.
        coefs: the fitted coefficients, shape ``(m, p)`` (row ``i`` for
            ``lambdas[i]``), or ``(m,)`` for one coefficient.
        ax: the matplotlib ``Axes`` to draw on (a new figure if ``None``).
        labels: one legend label per coefficient; default
            :math:`w_1, \dots, w_p` (shown when :math:`p \le 10`).
        logx: log-scale the :math:`\lambda` axis.

    Returns:
        The ``Axes``, with one line per coefficient.

    Raises:
        ValueError: for mismatched shapes, or a :math:`\lambda \le 0` on a
            log axis.

    Example:
        >>> from matplotlib.figure import Figure
        >>> lam = np.logspace(-2, 2, 5)
        >>> w = np.outer(1 / (1 + lam), [1.0, -2.0, 0.5])  # shrinkage
        >>> ax = plot_regularisation_path(lam, w, Figure().add_subplot())
        >>> len(ax.lines), ax.get_xscale()
        (3, 'log')
    """
    owner = "plot_regularisation_path"
    lambdas = _as_array(lambdas, "lambdas", owner)
    coefs = _as_array(coefs, "coefs", owner, ndim=(1, 2))
    if coefs.ndim == 1:
        coefs = coefs[:, None]
    if len(coefs) != len(lambdas):
        raise ValueError(
            f"The 'coefs' parameter of {owner} must have one row per "
            f"lambda ({len(lambdas)}). Got an array of shape "
            f"{coefs.shape} instead.")
    check_bool(logx, "logx", owner)
    if logx and np.any(lambdas <= 0):
        raise param_error("lambdas", owner, "> 0 everywhere on a log axis "
                          "(logx=True)", lambdas.tolist())
    p = coefs.shape[1]
    if labels is None:
        labels = [f"$w_{{{j + 1}}}$" for j in range(p)] if p <= 10 else None
    elif len(labels) != p:
        raise ValueError(
            f"The 'labels' parameter of {owner} must have one label per "
            f"coefficient ({p}). Got {len(labels)} labels instead.")
    ax = _new_axes(ax)
    order = np.argsort(lambdas)
    for j in range(p):
        ax.plot(lambdas[order], coefs[order, j],
                label=None if labels is None else labels[j])
    ax.set_xlabel(r"$\lambda$")
    ax.set_ylabel(r"$w_j$")
    if logx:
        ax.set_xscale("log")
    if labels is not None:
        ax.legend(fontsize="small", ncol=2)
    return ax


def _flat_weights(obj, label, owner: str) -> np.ndarray:
    """The values of a model's penalised weights, a tensor, or a list of
    tensors, as one flat NumPy array."""
    from torch import nn

    from .penalties import weights_only

    if isinstance(obj, nn.Module):
        tensors = weights_only(obj)
    elif isinstance(obj, torch.Tensor):
        tensors = [obj]
    elif isinstance(obj, (list, tuple)) and obj and all(
            isinstance(t, torch.Tensor) for t in obj):
        tensors = list(obj)
    else:
        raise TypeError(
            f"The 'models_or_tensors' parameter of {owner} must map each "
            f"label to an nn.Module, a tensor or a list of tensors. Got "
            f"{type(obj).__name__} for {label!r} instead.")
    if not tensors:
        raise ValueError(
            f"The 'models_or_tensors' parameter of {owner} must give "
            f"weights to plot. The model for {label!r} has no Linear or "
            "Conv weight.")
    return torch.cat([t.detach().reshape(-1).cpu().double()
                      for t in tensors]).numpy()


def plot_weight_histograms(models_or_tensors: dict, ax=None, *,
                           bins=50, logy: bool = False):
    r"""Histograms of weight values :math:`w`, one outline per entry, on
    shared bins — e.g. the same network trained with several
    :math:`\lambda`: L2 narrows the distribution, L1 piles weights at 0.

    A model contributes the weights that penalties act on
    (:func:`reglab.weights_only`: Linear and Conv weights, no biases);
    a tensor or list of tensors contributes all its values.

    Args:
        models_or_tensors: ``{label: model | tensor | [tensors]}``, e.g.
            ``{"λ=0": net0, "λ=0.1": net1}``.
        ax: the matplotlib ``Axes`` to draw on (a new figure if ``None``).
        bins: the number of shared bins (≥ 1) over the range of all
            values, or a sequence of bin edges.
        logy: log-scale the density axis (shows the tails).

    Returns:
        The ``Axes``, with one histogram outline (patch) per entry; the
        y-axis is the density :math:`p(w)`.

    Raises:
        ValueError: an empty dict, or a model without Linear/Conv weights.
        TypeError: entries of the wrong type.

    Example:
        >>> from matplotlib.figure import Figure
        >>> g = torch.Generator().manual_seed(0)
        >>> ws = {"σ=1": torch.randn(1000, generator=g),
        ...       "σ=0.3": 0.3 * torch.randn(1000, generator=g)}
        >>> ax = plot_weight_histograms(ws, Figure().add_subplot(), bins=20)
        >>> len(ax.patches)
        2
    """
    owner = "plot_weight_histograms"
    if not isinstance(models_or_tensors, dict) or not models_or_tensors:
        raise param_error(
            "models_or_tensors", owner, "a non-empty dict {label: model or "
            "tensor}", models_or_tensors,
            exc=ValueError if isinstance(models_or_tensors, dict)
            else TypeError)
    values = {label: _flat_weights(obj, label, owner)
              for label, obj in models_or_tensors.items()}
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        bins = check_int(bins, "bins", owner, low=1)
        everything = np.concatenate(list(values.values()))
        lo, hi = float(everything.min()), float(everything.max())
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)
    else:
        edges = _as_array(bins, "bins", owner)
        if len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise param_error("bins", owner, "an int >= 1 or an increasing "
                              "sequence of at least 2 edges", bins)
    check_bool(logy, "logy", owner)
    ax = _new_axes(ax)
    for label, v in values.items():
        ax.hist(v, bins=edges, density=True, histtype="step", linewidth=1.5,
                label=str(label))
    ax.set_xlabel("$w$")
    ax.set_ylabel("$p(w)$")
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    return ax
