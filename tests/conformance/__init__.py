"""Conformance suites: every registered plug-in (each registry's own ``names()``) against its contract."""
