"""Evaluators (benchmark lookup, real training, measured latency) and the Ray pool that runs them."""
