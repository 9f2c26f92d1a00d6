"""Config blocks are constructor keyword arguments: validate a block against a signature."""

from __future__ import annotations

import inspect
import re
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


def option_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    """The evaluated annotation of each keyword parameter ``factory`` takes (``{}`` where an
    annotation cannot be resolved: such an option is not type-checked)."""
    import typing

    target = factory.__init__ if inspect.isclass(factory) else factory  # type: ignore[misc]
    try:
        return dict(typing.get_type_hints(target))
    except Exception:  # noqa: BLE001 - an unresolvable forward reference: try each one alone
        pass
    hints: dict[str, Any] = {}
    namespace = getattr(target, "__globals__", {})
    for name, param in inspect.signature(target).parameters.items():
        annotation = param.annotation
        if annotation is inspect.Parameter.empty:
            continue
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, dict(namespace))  # noqa: S307 - the plug-in's own annotation
            except Exception:  # noqa: BLE001 - not checkable; the constructor still checks
                continue
        hints[name] = annotation
    return hints


def check_option_types(factory: Callable[..., Any], options: Mapping[str, Any], where: Callable[[str], str]) -> None:
    """Raise a ConfigError when an option's value does not fit the constructor's annotation
    (``population_size: "thirty"`` for an ``int``), before anything is built. ``where(key)``
    names the option for the message (file, key and line)."""
    from nasearch.config import Source, check_value

    class _Where(Source):
        def where(self, key: str) -> str:  # "opt[0]" -> where("opt") + " (item [0])"
            top = re.split(r"[.\[]", key, maxsplit=1)[0]
            rest = key[len(top):]
            return where(top) + (f" (item {rest})" if rest else "")

    hints = option_hints(factory)
    for key, value in options.items():
        if key in hints:
            check_value(value, hints[key], key, _Where("<options>"))


def call_with_options(factory: Callable[..., Any], options: Mapping[str, Any], what: str) -> Any:
    """``factory(**options)`` after checking the keys; a TypeError/ValueError names ``what``."""
    check_options(factory, options, what)
    try:
        return factory(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: {exc}") from exc
