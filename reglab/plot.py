"""Plot helpers shared by the chapters.

Figures use symbols and numbers rather than words where possible, so that
one figure serves both editions of the book.
"""

from __future__ import annotations

__all__ = ["plot_learning_curves", "set_style"]


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
