"""Predictors (surrogates): NN-Former, LeDG-Former and honest baselines behind one interface."""
