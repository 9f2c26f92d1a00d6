"""Config blocks are constructor keyword arguments: validate a block against a signature.

Options are declared once. A base class declares its shared options keyword-only (after ``*``); a
subclass declares only its own and forwards the rest with ``super().__init__(..., **options)``, so
its accepted options are its own parameters plus the keyword-only ones of the bases its
``**options`` reach (``constructor_chain``). A ``**options`` that reaches a base with no keyword-only
parameters and no ``**options`` of its own is taken to be the class's own business (e.g. options for
an object it wraps): it still accepts any keyword. A class whose last ``**options`` takes a known
set of names lists them, as keyword-only ``inspect.Parameter`` objects, from a classmethod
``keyword_options()`` (the neural predictors' training options); it checks those names itself, so
``accepted_options`` reports it as taking ``**kwargs``. The defaults such a class sets for some of
them, in its ``option_defaults`` mapping, count as its own declared defaults (``declared_defaults``:
what the provenance of a compare row records), the others' do not.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import TypeVar

from nasearch.api.errors import OptionError, suggest
from nasearch.config.loader import Source, check_value

#: what a factory called with options makes
T = TypeVar("T")


def _kinds(function: Callable[..., object]) -> set[object]:
    return {p.kind for p in inspect.signature(function).parameters.values()}


def constructor_chain(factory: Callable[..., object]) -> list[Callable[..., object]]:
    """The functions whose parameters ``factory`` accepts, most derived first: a function itself;
    for a class its ``__init__`` and, while one takes ``**options``, the next base ``__init__`` that
    declares keyword-only options or ``**options`` (where a subclass forwards them)."""
    if not inspect.isclass(factory):
        return [factory]
    chain: list[Callable[..., object]] = []
    for klass in factory.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        kinds = _kinds(init)
        if chain and not kinds & {inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD}:
            break  # a base the subclass calls with its own arguments, not with its **options
        chain.append(init)
        if inspect.Parameter.VAR_KEYWORD not in kinds:
            break
    return chain or [factory.__init__]


ChainLink = tuple[Callable[..., object], dict[str, inspect.Parameter]]


def _chain_parameters(factory: Callable[..., object]) -> list[ChainLink]:
    """Each function of ``constructor_chain`` with the options it contributes: all the named
    parameters of the first, the keyword-only ones of a base (which ``**options`` reach)."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    out = []
    for i, function in enumerate(constructor_chain(factory)):
        kinds = named[1:] if i else named
        params = inspect.signature(function).parameters
        out.append((function, {n: p for n, p in params.items() if n != "self" and p.kind in kinds}))
    return out


def _keyword_options(factory: Callable[..., object]) -> dict[str, inspect.Parameter]:
    """What a class lists for its last ``**options`` (its ``keyword_options()``), else ``{}``."""
    listed = getattr(factory, "keyword_options", None) if inspect.isclass(factory) else None
    return dict(listed()) if callable(listed) else {}


def accepted_options(factory: Callable[..., object]) -> tuple[dict[str, inspect.Parameter], bool]:
    """The keyword parameters ``factory`` takes (its own, then those it forwards to its bases and
    lists in ``keyword_options()``), and whether it also takes ``**kwargs`` it checks itself."""
    named: dict[str, inspect.Parameter] = {}
    var_kw = False
    for function, params in _chain_parameters(factory):
        for name, p in params.items():
            named.setdefault(name, p)  # a subclass's default wins over its base's
        var_kw = inspect.Parameter.VAR_KEYWORD in _kinds(function)
    for name, p in _keyword_options(factory).items():
        named.setdefault(name, p)
    return named, var_kw


def declared_defaults(factory: Callable[..., object]) -> dict[str, object]:
    """The option defaults ``factory`` declares: its constructor chain's keyword defaults and a
    class's ``option_defaults`` (the shared options it sets its own default for). Shared options it
    leaves at their base's default (``keyword_options()``) are not among them."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return {}
    defaults = {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty and p.kind is not inspect.Parameter.VAR_KEYWORD
    }
    if inspect.isclass(factory):
        for name, value in getattr(factory, "option_defaults", {}).items():
            defaults.setdefault(name, value)
        for _, params in _chain_parameters(factory)[1:]:
            for name, p in params.items():
                if p.default is not inspect.Parameter.empty:
                    defaults.setdefault(name, p.default)
    return defaults


def check_options(factory: Callable[..., object], options: Mapping[str, object], what: str) -> None:
    """Raise an OptionError naming any key ``factory`` does not accept (with a suggestion)."""
    named, var_kw = accepted_options(factory)
    if var_kw:
        return
    for key in options:
        if key not in named:
            raise OptionError(
                f"{what} has no option {key!r}{suggest(key, named)} (options: {', '.join(named) or 'none'})"
            )


def _annotations(function: Callable[..., object]) -> dict[str, object]:
    """The evaluated annotations of ``function``'s parameters (``{}`` for one that cannot be resolved)."""
    try:
        return dict(typing.get_type_hints(function))
    except Exception:  # noqa: BLE001 - an unresolvable forward reference: try each one alone
        pass
    hints: dict[str, object] = {}
    namespace = getattr(function, "__globals__", {})
    for name, param in inspect.signature(function).parameters.items():
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


def option_hints(factory: Callable[..., object]) -> dict[str, object]:
    """The evaluated annotation of each keyword parameter ``factory`` takes, inherited and listed
    ones included (none where an annotation cannot be resolved: such an option is not type-checked)."""
    hints: dict[str, object] = {}
    chain = _chain_parameters(factory)
    for i, (function, params) in reversed(list(enumerate(chain))):  # a subclass's annotation wins
        own = _annotations(function)
        hints.update(own if i == 0 else {k: v for k, v in own.items() if k in params})
    for name, p in _keyword_options(factory).items():
        if p.annotation is not inspect.Parameter.empty and not isinstance(p.annotation, str):
            hints.setdefault(name, p.annotation)
    return hints


def check_option_types(
    factory: Callable[..., object], options: Mapping[str, object], where: Callable[[str], str]
) -> None:
    """Raise a ConfigError when an option's value does not fit the constructor's annotation
    (``population_size: "thirty"`` for an ``int``), before anything is built. ``where(key)``
    names the option for the message (file, key and line)."""

    class _Where(Source):
        def where(self, key: str) -> str:  # "opt[0]" -> where("opt") + " (item [0])"
            top = re.split(r"[.\[]", key, maxsplit=1)[0]
            rest = key[len(top) :]
            return where(top) + (f" (item {rest})" if rest else "")

    hints = option_hints(factory)
    for key, value in options.items():
        if key in hints:
            check_value(value, hints[key], key, _Where("<options>"))


def call_with_options(factory: Callable[..., T], options: Mapping[str, object], what: str) -> T:
    """``factory(**options)`` after checking the keys; a TypeError/ValueError is an OptionError naming ``what``."""
    check_options(factory, options, what)
    try:
        return factory(**options)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"{what}: {exc}") from exc
