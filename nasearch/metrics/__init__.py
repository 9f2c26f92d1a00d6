"""Metrics that score predictors (rank correlation) and searches (two-objective fronts)."""
