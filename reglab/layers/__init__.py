"""Regularising layers, written from scratch: dropout (book chapter
"Dropout") and batch normalisation (book chapter "Batch normalisation").

As in PyTorch, the maths lives once in a function (:func:`dropout`,
:func:`batch_norm`) and the modules (:class:`Dropout`,
:class:`BatchNorm1d`, :class:`BatchNorm2d`) only hold hyper-parameters and
buffers and pass ``self.training`` on.
"""

from .batchnorm import BatchNorm1d, BatchNorm2d, batch_norm
from .dropout import Dropout, dropout

__all__ = ["BatchNorm1d", "BatchNorm2d", "Dropout", "batch_norm", "dropout"]
