"""Config blocks are constructor keyword arguments: validate a block against a signature."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from nasearch.errors import ConfigError, suggest


def accepted_options(factory: Callable[..., Any]) -> tuple[dict[str, inspect.Parameter], bool]:
    """The keyword parameters ``factory`` takes, and whether it also takes ``**kwargs``."""
    target = factory.__init__ if inspect.isclass(factory) else factory  # type: ignore[misc]
    params = inspect.signature(target).parameters
    named = {
        name: p
        for name, p in params.items()
        if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    return named, var_kw


def check_options(factory: Callable[..., Any], options: Mapping[str, Any], what: str) -> None:
    """Raise a ConfigError naming any key ``factory`` does not accept (with a suggestion)."""
    named, var_kw = accepted_options(factory)
    if var_kw:
        return
    for key in options:
        if key not in named:
            raise ConfigError(
                f"{what} has no option {key!r}{suggest(key, named)} (options: {', '.join(named) or 'none'})"
            )


def call_with_options(factory: Callable[..., Any], options: Mapping[str, Any], what: str) -> Any:
    """``factory(**options)`` after checking the keys; a TypeError/ValueError names ``what``."""
    check_options(factory, options, what)
    try:
        return factory(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: {exc}") from exc
