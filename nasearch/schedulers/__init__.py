"""Schedulers: which cell runs at which fidelity, and which cells are promoted or stopped.

Registered like optimizers (``nasearch.config.registry.SCHEDULERS``) and used with any optimizer through
ask/tell by the loop in :mod:`nasearch.schedulers.loop`: full fidelity, synchronous successive
halving, Hyperband, "many at low fidelity, the top-k fully", ASHA, and a surrogate-guided ASHA.
"""
