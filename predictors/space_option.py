"""The shared check of a predictor option that names a space (``pretrain``, ``proxy_input``, ...), so
each such option reports a wrong shape, key or space the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nasearch.api.errors import ConfigError, suggest


def check_space_option(value: Any, owner: str, what: str, keys: Sequence[str]) -> Mapping[str, Any]:
    """``value`` as a mapping with only ``keys`` and a non-empty ``space``; a ConfigError names the problem."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{owner}: {what} must be a mapping such as {{space: nasbench201}}, got {value!r}")
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise ConfigError(
            f"{owner}: {what} has no key {unknown[0]!r}{suggest(str(unknown[0]), keys)} "
            f"(keys: {', '.join(keys)})"
        )
    if not isinstance(value.get("space"), str) or not value["space"]:
        raise ConfigError(f"{owner}: {what} needs space: the name of a space with zero-cost proxies")
    return value
