"""The one place that imports scikit-learn's private helpers.

scikit-learn keeps its parameter-validation machinery private. We rely on it the way
``IsolationForest`` does, so the minimum version is pinned in ``pyproject.toml``; if a
future release moves these names, this module is the only one to change.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

__all__ = ["Interval", "InvalidParameterError", "StrOptions", "_fit_context"]
