"""Benchmark scripts: each prints its figures and stores its section (benchmarks/results/), rendered into
BENCHMARKS.md."""
