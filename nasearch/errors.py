"""The exceptions nasearch raises for bad input: each names the input and what is wrong with it."""

from __future__ import annotations


class NasearchError(Exception):
    """Base class: the CLI prints these as one line, without a traceback."""


class DataError(NasearchError):
    """A benchmark table is missing, unreadable or malformed."""


class ArchError(NasearchError, ValueError):
    """An architecture (string, index, spec or graph) is malformed or not in the space."""


class RegistryError(NasearchError, LookupError):
    """An unknown registry name, or a plug-in class that breaks its contract."""


class ConfigError(NasearchError, ValueError):
    """A YAML run configuration has an unknown key, a wrong type or a bad value."""
