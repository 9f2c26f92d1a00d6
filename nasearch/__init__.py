"""nasearch: neural architecture search with pluggable predictor surrogates."""

from __future__ import annotations

from nasearch.errors import ArchError, ConfigError, DataError, NasearchError, RegistryError
from nasearch.graph import ArchGraph

__all__ = ["ArchGraph", "ArchError", "ConfigError", "DataError", "NasearchError", "RegistryError"]
__version__ = "0.1.0"
