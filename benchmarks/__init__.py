"""Benchmarks for irnet-infer: `python -m benchmarks.table5` reproduces the paper's Table 5."""
