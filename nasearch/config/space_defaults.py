"""A space's own predictor defaults (``nasearch.api.PredictorDefaults``), read and checked in one place.

Precedence, wherever a user evaluates predictors on a space (``nasearch compare``, ``nasearch.compare``,
``compare --from-run``): options given explicitly > the space's predictor defaults > the predictor's
own defaults (its constructor's and its ``option_defaults``). The surrogates of predictor-guided
searches never read a space's defaults (``nasearch.config.surrogate`` resolves a surrogate from its
YAML block alone), so what a search fits, and its stored results, stay as they were.
"""

from __future__ import annotations

from collections.abc import Mapping

from nasearch.api import PredictorDefaults, PredictorSettings
from nasearch.api.errors import ConfigError, NasearchError
from nasearch.api.space_calls import describe_space
from nasearch.config.options import check_option_types, check_options
from nasearch.config.registry import PREDICTORS


def space_predictor_settings(space: object, metric: str) -> PredictorSettings:
    """The settings ``space`` carries for predictors trained on ``metric``, checked (empty settings
    for a space without the capability)."""
    if not isinstance(space, PredictorDefaults):
        return PredictorSettings()
    settings = space.predictor_defaults(metric)
    check_predictor_settings(space, settings, metric)
    return settings


def check_predictor_settings(space: object, settings: object, metric: str) -> None:
    """One ConfigError naming the space when its settings are no ``PredictorSettings``, name a
    predictor that is not registered, an option the predictor does not take or a value its
    constructor refuses, or a space option the space's constructor does not take."""
    where = f"{describe_space(space)}.predictor_defaults({metric!r})"
    if not isinstance(settings, PredictorSettings):
        raise ConfigError(
            f"{where} returned a {type(settings).__name__}, not a nasearch.api.PredictorSettings"
        )
    for name, options in settings.options.items():
        try:
            PREDICTORS.create(name, **options)  # cheap (no model until fit): names and values checked
        except NasearchError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    try:
        check_options(type(space), settings.space_options, describe_space(space))
        check_option_types(type(space), settings.space_options, lambda key: f"space option {key!r}")
    except NasearchError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def with_space_defaults(
    settings: PredictorSettings, name: str, options: Mapping[str, object]
) -> dict[str, object]:
    """The options predictor ``name`` is built with: ``options`` over the space's defaults for it
    (the predictor's own defaults fill in the rest when it is built)."""
    return {**settings.options.get(name, {}), **options}


__all__ = ["check_predictor_settings", "space_predictor_settings", "with_space_defaults"]
