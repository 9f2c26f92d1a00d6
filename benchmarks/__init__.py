"""Benchmark scripts: each prints its figures and writes its section of BENCHMARKS.md."""
