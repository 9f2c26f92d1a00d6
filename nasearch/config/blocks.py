"""A registry block of a run YAML (``{name, options, ...inline options}``), parsed and checked against
the constructor it feeds: shared by the run schema and the scheduler block, so neither imports the other."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nasearch.api.errors import ConfigError, RegistryError, suggest
from nasearch.config.loader import Source, check_value
from nasearch.config.options import accepted_options, check_option_types, check_options, option_hints
from nasearch.config.registry import ALL_REGISTRIES, PREDICTORS
from nasearch.config.surrogate import PredictorFactory, predictor_spec, resolve_predictor

#: constructor arguments the runner supplies itself (never from YAML)
RUNNER_SUPPLIED = {
    "optimizer": ("space", "objectives", "seed"),
    "evaluator": ("space",),
    "search_space": ("data_dir",),
    "scheduler": ("space", "seed"),
}


@dataclass
class Block:
    """A registry name and the keyword arguments of its constructor."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    #: an optimizer block's own ``scheduler:`` (overrides the run's; see nasearch.schedulers)
    scheduler: Block | None = None
    #: the block's ``surrogate:`` resolved once (``nasearch.config.surrogate``); None: it names none
    surrogate: PredictorFactory | None = None


def parse_block(
    raw: object,
    key: str,
    source: Source,
    kind: str,
    allow_label: bool = False,
    scheduler: Callable[[object, str, Source], Block] | None = None,
) -> Block:
    """Parse ``{name, options, ...inline options}`` and check it against the registry entry.
    ``scheduler`` parses an optimizer block's own ``scheduler:`` (``nasearch.schedulers.config``)."""
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source.where(key)}: expected a mapping with 'name', got {raw!r}")
    if "name" not in raw:
        raise ConfigError(f"{source.where(key)}: missing key 'name'")
    name = raw["name"]
    try:
        factory = ALL_REGISTRIES[kind].get(name)
    except RegistryError as exc:
        raise ConfigError(f"{source.where(key + '.name')}: {exc}") from None
    if not isinstance(raw.get("options") or {}, Mapping):
        raise ConfigError(
            f"{source.where(key + '.options')}: expected a mapping of options, got {raw['options']!r}"
        )
    options = dict(raw.get("options") or {})
    label = ""
    own_scheduler = None
    locations = {k: f"{key}.options.{k}" for k in options}
    for k, v in raw.items():
        if k in ("name", "options"):
            continue
        if k == "label" and allow_label:
            label = str(v)
            continue
        if k == "scheduler" and allow_label and scheduler is not None:
            own_scheduler = scheduler(v, f"{key}.scheduler", source)
            continue
        if k in options:
            raise ConfigError(
                f"{source.where(key + '.' + k)}: option {k!r} is given both inline and under 'options'"
            )
        options[k] = v
        locations[k] = f"{key}.{k}"
    named, var_kw = accepted_options(factory)
    supplied = RUNNER_SUPPLIED.get(
        {"optimizers": "optimizer", "evaluators": "evaluator", "schedulers": "scheduler"}.get(
            kind, "search_space"
        ),
        (),
    )
    for k in options:
        if k in supplied:
            raise ConfigError(f"{source.where(locations[k])}: {k!r} is set by the runner, not in the config")
        if not var_kw and k not in named:
            allowed = [n for n in named if n not in supplied]
            raise ConfigError(
                f"{source.where(locations[k])}: {kind.rstrip('s').replace('_', ' ')} {name!r} has no option "
                f"{k!r}{suggest(k, allowed)} (options: {', '.join(allowed) or 'none'})"
            )
    hints = option_hints(factory)  # the constructor's annotations: a wrong type fails here, by key
    for k, v in options.items():
        if k in hints and k != "surrogate":
            check_value(v, hints[k], locations[k], source)
    surrogate = None
    if "surrogate" in options:
        surrogate = check_surrogate(options["surrogate"], locations["surrogate"], source)
    return Block(name=str(name), options=options, label=label, scheduler=own_scheduler, surrogate=surrogate)


def check_surrogate(spec: object, key: str, source: Source) -> PredictorFactory:
    """A surrogate block names a registered predictor and only options its constructor takes; it is
    resolved here, once, into the factory the optimizer calls (``nasearch.config.surrogate``)."""
    try:
        norm = predictor_spec(spec)
        if isinstance(norm, tuple):
            name, options = norm
            try:
                factory = PREDICTORS.get(name)
            except RegistryError as exc:
                raise ConfigError(f"{source.where(key + '.name')}: {exc}") from None
            check_options(factory, {k: v for k, v in options.items() if k != "seed"}, f"predictor {name!r}")
            check_option_types(
                factory, options, lambda k: f"{source.where(key)}: predictor {name!r} option {k!r}"
            )
            PREDICTORS.create(name, **options)  # cheap (no model until fit); catches **kwargs typos
        return resolve_predictor(spec)
    except ConfigError as exc:
        text = str(exc)
        raise ConfigError(text if text.startswith(source.path) else f"{source.where(key)}: {text}") from None


__all__ = ["RUNNER_SUPPLIED", "Block", "check_surrogate", "parse_block"]
