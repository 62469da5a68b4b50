"""From-scratch optimizers, each a ``torch.optim.Optimizer`` subclass that
matches its PyTorch counterpart step for step."""

from .sgd import SGD

__all__ = ["SGD"]
