"""Optimizers: ask/tell strategies, some guided by an online-trained predictor."""
