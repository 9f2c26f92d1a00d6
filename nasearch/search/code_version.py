"""Which code computes a run's evaluations: the plug-in's distribution version and its module's hash.

The fingerprint (``nasearch.search.fingerprint``) records it for the search space and evaluator classes; a
resume whose code differs is warned about in one line (the study would mix values of old and new
code), not refused: a bug fix is a legitimate reason to carry on.
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path


@lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    return dict(packages_distributions())


def code_version(cls: type) -> str:
    """``<distribution> <version>, <module file> sha256 <12 hex>`` of the module defining ``cls``
    (the distribution part only where the module belongs to one)."""
    module_name = getattr(cls, "__module__", "") or ""
    parts = []
    dists = _distributions().get(module_name.split(".")[0]) or []
    if dists:
        try:
            parts.append(f"{dists[0]} {version(dists[0])}")
        except PackageNotFoundError:
            pass
    file = getattr(sys.modules.get(module_name), "__file__", None)
    if file:
        try:
            parts.append(
                f"{Path(file).name} sha256 {hashlib.sha256(Path(file).read_bytes()).hexdigest()[:12]}"
            )
        except OSError:
            pass
    return ", ".join(parts) or "unknown"


def code_versions(**parts: object) -> dict[str, str]:
    """``{part: "module:Class (version)"}`` of the given objects' classes (e.g. space=, evaluator=)."""
    out = {}
    for name, obj in parts.items():
        if obj is not None:
            cls = type(obj)
            out[name] = f"{cls.__module__}:{cls.__qualname__} ({code_version(cls)})"
    return out


__all__ = ["code_version", "code_versions"]
