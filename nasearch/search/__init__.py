"""A search run: the loop, its parts, resume, lock, fingerprint, failures, tracking (Optuna) and report."""
