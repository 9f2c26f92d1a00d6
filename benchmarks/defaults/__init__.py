"""``select_defaults``' jobs, one module each: selection protocols, the grid search, the frozen choice's
test scores, its BENCHMARKS section, and reading a legacy section back (the #28 migration only)."""
