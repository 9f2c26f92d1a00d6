"""nasearch: neural architecture search with pluggable predictor surrogates.

From Python: ``nasearch.run(config)``, ``nasearch.load(run_dir)``, ``nasearch.plot(*run_dirs)`` and
``nasearch.compare(...)`` (:mod:`nasearch.python_api`), imported on first use so ``import nasearch``
stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nasearch.api.errors import ArchError, ConfigError, DataError, NasearchError, RegistryError
from nasearch.api.graph import ArchGraph

if TYPE_CHECKING:
    from nasearch.compare.results import CompareResults
    from nasearch.python_api import compare, load, plot, run
    from nasearch.search.results import RunResults

#: the Python API, by name -> the module that defines it (loaded on first attribute access)
_LAZY = {
    "run": "nasearch.python_api",
    "load": "nasearch.python_api",
    "plot": "nasearch.python_api",
    "compare": "nasearch.compare",
    "RunResults": "nasearch.search.results",
    "CompareResults": "nasearch.compare.results",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nasearch' has no attribute {name!r}")
    if name == "compare":  # the package nasearch.compare, callable as the API's compare()
        return importlib.import_module(module)
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ArchGraph",
    "ArchError",
    "CompareResults",
    "ConfigError",
    "DataError",
    "NasearchError",
    "RegistryError",
    "RunResults",
    "compare",
    "load",
    "plot",
    "run",
]
__version__ = "0.1.0"
