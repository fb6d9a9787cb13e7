"""``python -m ae_anomaly``: the ``ae-anomaly`` command line."""

from .cli.app import main

if __name__ == "__main__":
    raise SystemExit(main())
