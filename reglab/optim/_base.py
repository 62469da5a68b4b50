"""What every reglab optimizer shares: options checked before a parameter
group is accepted, and the closure evaluated with gradients enabled."""

from __future__ import annotations

import torch


class CheckedOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose subclasses define
    ``_check_group(group)``; the defaults and every parameter group (given
    at construction or added later) are checked before they are used."""

    def __init__(self, params, defaults: dict):
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        raise NotImplementedError

    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group; its options are checked like the
        defaults, and a bad group is not added."""
        if isinstance(param_group, dict):  # else torch's TypeError
            self._check_group({**self.defaults, **param_group})
        super().add_param_group(param_group)


def evaluate_closure(closure):
    """Run ``closure`` (if any) with gradients enabled and return its
    loss; ``step`` itself runs under ``torch.no_grad()``."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()
