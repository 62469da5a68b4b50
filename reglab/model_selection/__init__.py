"""Model selection: K-fold splitters, cross-validation and grid search
(book chapter "Model selection").

Written from scratch with NumPy; :class:`KFold` gives exactly the folds of
``sklearn.model_selection.KFold``, which the tests check.
"""

from .search import GridSearchResult, cross_validate, grid_search_cv
from .split import KFold, StratifiedKFold

__all__ = [
    "GridSearchResult",
    "KFold",
    "StratifiedKFold",
    "cross_validate",
    "grid_search_cv",
]
