"""reglab — from-scratch reference implementations for the course
"Training strategy and regularisation for deep networks".

Every public name is importable from the top level (``reglab.SGD``) and from
its module (``reglab.optim.SGD``). Importing reglab has no side effects.
"""

from .data import diabetes_tensors, poly_features, poly_regression
from .device import (
                     DeviceSetting,
                     device_setting,
                     get_device,
                     has_gpu,
                     set_seed,
)
from .optim import SGD
from .penalties import (
                     elastic_net_penalty,
                     l1_penalty,
                     l2_penalty,
                     weights_only,
)
from .plot import plot_learning_curves, set_style
from .train import History, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    "SGD",
    "DeviceSetting",
    "History",
    "device_setting",
    "diabetes_tensors",
    "elastic_net_penalty",
    "evaluate",
    "fit",
    "get_device",
    "has_gpu",
    "l1_penalty",
    "l2_penalty",
    "plot_learning_curves",
    "poly_features",
    "poly_regression",
    "set_seed",
    "set_style",
    "weights_only",
]
