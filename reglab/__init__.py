"""reglab — from-scratch reference implementations for the course
"Training strategy and regularisation for deep networks".

Every public name is importable from the top level (``reglab.SGD``) and from
its module (``reglab.optim.SGD``). Importing reglab has no side effects.
"""

from . import schedules
from .data import (
    breast_cancer_tensors,
    diabetes_tensors,
    digits_loaders,
    poly_features,
    poly_regression,
)
from .device import (
    DeviceSetting,
    device_setting,
    get_device,
    has_gpu,
    set_seed,
)
from .early_stopping import EarlyStopping
from .layers import BatchNorm1d, BatchNorm2d, Dropout, batch_norm, dropout
from .losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_softmax,
    mse_loss,
)
from .model_selection import (
    GridSearchResult,
    KFold,
    StratifiedKFold,
    cross_validate,
    grid_search_cv,
)
from .optim import SGD, Adam, AdamW, RMSprop
from .penalties import (
    elastic_net_penalty,
    l1_penalty,
    l2_penalty,
    weights_only,
)
from .plot import (
    plot_learning_curves,
    plot_regularisation_path,
    plot_train_val_gap,
    plot_weight_histograms,
    set_style,
)
from .schedules import cosine_lr, exponential_lr, linear_warmup, step_lr
from .train import History, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    # optimisers
    "SGD", "Adam", "AdamW", "RMSprop",
    # layers
    "BatchNorm1d", "BatchNorm2d", "Dropout", "batch_norm", "dropout",
    # losses
    "binary_cross_entropy_with_logits", "cross_entropy", "log_softmax",
    "mse_loss",
    # penalties
    "elastic_net_penalty", "l1_penalty", "l2_penalty", "weights_only",
    # schedules
    "cosine_lr", "exponential_lr", "linear_warmup", "step_lr",
    # training
    "EarlyStopping", "History", "evaluate", "fit",
    # model selection
    "GridSearchResult", "KFold", "StratifiedKFold", "cross_validate",
    "grid_search_cv",
    # data
    "breast_cancer_tensors", "diabetes_tensors", "digits_loaders",
    "poly_features", "poly_regression",
    # devices and seeds
    "DeviceSetting", "device_setting", "get_device", "has_gpu", "set_seed",
    # plots
    "plot_learning_curves", "plot_regularisation_path",
    "plot_train_val_gap", "plot_weight_histograms", "set_style",
    # modules
    "schedules",
]
