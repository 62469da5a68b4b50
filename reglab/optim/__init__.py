"""From-scratch optimizers, each a ``torch.optim.Optimizer`` subclass that
matches its PyTorch counterpart step for step."""

from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "RMSprop"]
