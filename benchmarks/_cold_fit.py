"""One fit in a fresh process, as a user's script runs it (the child of benchmarks.speed).

Only the standard library is imported before the clock starts, so ``import_s`` is what the
model's imports cost. Then ``fit_s`` times the first fit (the cold one) and, for ours,
``warm_fit_s`` a second fit of a new estimator in the same process (NaN for the others).
Default threads: the harness sets none. Prints one JSON line.

``--runtime`` (``ours`` only) stands in for the package once wired to
:mod:`ae_anomaly.nn.runtime`: ``torch.optim.Adam`` is replaced, in this process only, by
:func:`~ae_anomaly.nn.runtime.make_adam`, and the fit runs under
``intra_op_threads(choose_threads(...))``.

    python -m benchmarks._cold_fit ours X_train.npy --seed 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
import warnings


def _runtime_patch():
    """Route ``torch.optim.Adam`` to ``make_adam``; return a thread-policy context."""
    import torch

    from ae_anomaly.models.base import default_sizes
    from ae_anomaly.nn.nets import mlp_autoencoder
    from ae_anomaly.nn.runtime import choose_threads, forward_macs, intra_op_threads, make_adam

    def adam(params, lr=1e-3, weight_decay=0.0, fused=None, **kwargs):
        implementation = "fused" if fused else "single"
        return make_adam(params, lr=lr, weight_decay=weight_decay, implementation=implementation)

    torch.optim.Adam = adam

    def threads(n_rows, n_features):
        hidden, code = default_sizes(n_features)
        macs = forward_macs(mlp_autoencoder(n_features, hidden, code), (n_features,))
        return intra_op_threads(choose_threads(macs, min(n_rows, 1024)))

    return threads


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks._cold_fit")
    parser.add_argument("model", choices=("ours", "pyod", "iforest"))
    parser.add_argument("data", help=".npy file of the training rows")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runtime", action="store_true")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import numpy as np

    if args.model == "ours":
        from ae_anomaly import Autoencoder

        def make():
            return Autoencoder(random_state=args.seed)

    elif args.model == "pyod":
        from pyod.models.auto_encoder import AutoEncoder

        def make():
            return AutoEncoder(random_state=args.seed, verbose=0)

    else:
        from sklearn.ensemble import IsolationForest

        def make():
            return IsolationForest(n_estimators=100, random_state=args.seed)

    import_s = time.perf_counter() - start
    X = np.load(args.data)
    policy = lambda: contextlib.nullcontext()  # noqa: E731
    if args.runtime:
        threads = _runtime_patch()
        policy = lambda: threads(*X.shape)  # noqa: E731
    times = []
    # The second (in-process warm) fit only for ours: the cold / warm target is ours; the
    # others' warm figures come from the harness's warm run.
    for _ in range(2 if args.model == "ours" else 1):
        np.random.seed(args.seed)  # noqa: NPY002 (the protocol seeds the global RNGs)
        random.seed(args.seed)
        est = make()
        with warnings.catch_warnings(), policy():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            est.fit(X)
            times.append(time.perf_counter() - t)
    dynamo = "torch._dynamo" in sys.modules
    print(
        json.dumps(
            {
                "import_s": import_s,
                "fit_s": times[0],
                "warm_fit_s": times[-1] if len(times) > 1 else float("nan"),
                "dynamo": dynamo,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
