"""reglab.plot: the helpers draw what they say (number of lines and
patches, axis scales, labels) and return the Axes; matplotlib Agg."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from reglab.plot import (
    plot_regularisation_path,
    plot_train_val_gap,
    plot_weight_histograms,
)

matplotlib.use("Agg")


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_train_val_gap_draws_two_curves_a_band_and_the_best_x(ax):
    x = np.arange(1, 6)
    train = [1.0, 0.6, 0.4, 0.3, 0.2]
    val = torch.tensor([1.1, 0.8, 0.7, 0.75, 0.9])
    out = plot_train_val_gap(x, train, val, ax)
    assert out is ax
    assert len(ax.lines) == 3 and len(ax.collections) == 1
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), train)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), val.numpy())
    assert ax.lines[2].get_xdata()[0] == 3  # argmin of the validation loss
    assert ax.get_xlabel() == "$t$" and ax.get_ylabel() == "$L$"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert r"$L_\mathrm{train}$" in labels and "$t$ = 3" in labels


def test_train_val_gap_options(ax):
    lam = np.logspace(-3, 1, 5)
    plot_train_val_gap(lam, lam, 2 * lam, ax, xlabel=r"$\lambda$",
                       logx=True, logy=True, mark_best=False)
    assert len(ax.lines) == 2
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == r"$\lambda$"


def test_regularisation_path_one_line_per_coefficient(ax):
    lam = np.logspace(2, -2, 7)  # unsorted input is drawn sorted
    coefs = np.outer(1 / (1 + lam), np.arange(1.0, 5.0))
    out = plot_regularisation_path(lam, torch.tensor(coefs), ax)
    assert out is ax and len(ax.lines) == 4 and ax.get_xscale() == "log"
    assert np.all(np.diff(ax.lines[0].get_xdata()) > 0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["$w_{1}$", "$w_{2}$", "$w_{3}$", "$w_{4}$"]
    assert ax.get_xlabel() == r"$\lambda$"


def test_regularisation_path_single_coefficient_and_many(ax):
    plot_regularisation_path([0.1, 1.0], [0.5, 0.2], ax, labels=["$b$"])
    assert len(ax.lines) == 1
    fig, ax2 = plt.subplots()
    plot_regularisation_path(np.arange(1, 4), np.zeros((3, 12)), ax2,
                             logx=False)
    assert len(ax2.lines) == 12 and ax2.get_legend() is None
    assert ax2.get_xscale() == "linear"
    plt.close(fig)


def test_weight_histograms_one_patch_per_entry(ax):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    g = torch.Generator().manual_seed(0)
    entries = {"λ=0": net, "σ=0.1": 0.1 * torch.randn(500, generator=g),
               "list": [torch.randn(10, 10, generator=g), torch.ones(3)]}
    out = plot_weight_histograms(entries, ax, bins=30)
    assert out is ax and len(ax.patches) == 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == list(entries)
    assert ax.get_xlabel() == "$w$" and ax.get_ylabel() == "$p(w)$"


def test_weight_histograms_use_weights_only_and_shared_bins():
    """A model contributes its Linear weights (no biases): the histogram
    equals numpy's over those values with the same edges."""
    net = nn.Linear(4, 3)
    with torch.no_grad():
        net.weight.copy_(torch.arange(12.0).reshape(3, 4))
        net.bias.fill_(100.0)
    fig, ax = plt.subplots()
    plot_weight_histograms({"net": net}, ax, bins=[0, 4, 8, 12],
                           logy=True)
    assert ax.get_yscale() == "log"
    verts = ax.patches[0].get_xy()
    assert verts[:, 0].min() == 0 and verts[:, 0].max() == 12
    density, _ = np.histogram(np.arange(12.0), bins=[0, 4, 8, 12],
                              density=True)
    assert np.isclose(verts[:, 1].max(), density.max())
    plt.close(fig)


def test_new_figure_when_no_axes_given():
    for ax in (plot_train_val_gap([1, 2], [1, 0.5], [1, 0.7]),
               plot_regularisation_path([0.1, 1.0], [[1.0], [0.5]]),
               plot_weight_histograms({"w": torch.zeros(5)})):
        assert isinstance(ax, matplotlib.axes.Axes)
        plt.close(ax.figure)


# (callable, args, kwargs, exception type, message regex)
BAD_INPUT = [
    (plot_train_val_gap, ([1, 2, 3], [1.0, 0.5], [1.0, 0.7, 0.9]), {},
     ValueError, r"'train'.*one value per x \(3\).*Got 2"),
    (plot_train_val_gap, ([0, 1], [1.0, 0.5], [1.0, 0.7]),
     {"logx": True}, ValueError, r"'x'.*> 0.*logx=True.*Got \[0.0, 1.0\]"),
    (plot_train_val_gap, ([1, 2], ["a", "b"], [1.0, 0.7]), {}, TypeError,
     r"'train'.*a sequence of numbers.*Got \['a', 'b'\]"),
    (plot_train_val_gap, ([1, 2], [1.0, 0.5], [1.0, 0.7]),
     {"mark_best": "yes"}, TypeError, r"'mark_best'.*a bool"),
    (plot_regularisation_path, ([0.1, 1.0], np.zeros((3, 2))), {},
     ValueError, r"'coefs'.*one row per lambda \(2\).*\(3, 2\)"),
    (plot_regularisation_path, ([0.0, 1.0], np.zeros((2, 2))), {},
     ValueError, r"'lambdas'.*> 0.*Got \[0.0, 1.0\]"),
    (plot_regularisation_path, ([0.1, 1.0], np.zeros((2, 2))),
     {"labels": ["a"]}, ValueError, r"'labels'.*one label per coeff.*\(2\)"),
    (plot_regularisation_path, ([0.1, 1.0], np.zeros((2, 2, 2))), {},
     ValueError, r"'coefs'.*1-d or 2-d.*\(2, 2, 2\)"),
    (plot_weight_histograms, ({},), {}, ValueError,
     r"'models_or_tensors'.*non-empty dict.*Got \{\}"),
    (plot_weight_histograms, ([torch.ones(3)],), {}, TypeError,
     r"'models_or_tensors'.*dict.*Got \[tensor"),
    (plot_weight_histograms, ({"w": "weights"},), {}, TypeError,
     r"'models_or_tensors'.*nn.Module, a tensor.*str for 'w'"),
    (plot_weight_histograms, ({"relu": nn.ReLU()},), {}, ValueError,
     r"'models_or_tensors'.*'relu' has no Linear or Conv weight"),
    (plot_weight_histograms, ({"w": torch.ones(3)},), {"bins": 0},
     ValueError, r"'bins'.*>= 1.*Got 0"),
    (plot_weight_histograms, ({"w": torch.ones(3)},), {"bins": [1, 0]},
     ValueError, r"'bins'.*increasing.*Got \[1, 0\]"),
]
