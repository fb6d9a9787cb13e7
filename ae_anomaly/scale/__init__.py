"""Beyond one in-memory fit: out-of-core training, Dask, ONNX export."""
