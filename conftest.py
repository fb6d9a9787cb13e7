"""Loaded by pytest before anything imports SciPy or scikit-learn."""

import os

# Lets scikit-learn's check_array_api_input run (it checks that enabling array API dispatch
# with NumPy inputs changes nothing) instead of skipping itself.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
