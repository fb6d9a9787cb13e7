"""Benchmarks for ae_anomaly: runnable as ``python -m benchmarks.<name>``."""
