"""A comparison on a space fits what the space's selection chose where its config says nothing.

Two steps, both before any fit, so that every ``results.csv`` row records (and hashes) the options it
really ran with, however they were given:

- ``with_chosen_space_options``: the space options the space's predictor choice was made with (NB201:
  pruned cells, for accuracy targets) are set where the config names none of them;
- ``resolve_specs``: each predictor's options are its explicit ones over the space's predictor
  defaults (``nasearch.config.space_defaults``; the predictor's own defaults lie under both).

``run_compare`` fits the specs it is given as they are: the benchmark scripts declare complete
settings and keep measuring exactly those.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from nasearch.compare.schema import CompareConfig
from nasearch.compare.task import build_space
from nasearch.config.space_defaults import space_predictor_settings, with_space_defaults

#: label -> (predictor registry name, options): what ``predictor_specs`` reads from a config
Specs = dict[str, tuple[str, dict[str, object]]]


def with_chosen_space_options(config: CompareConfig) -> tuple[CompareConfig, Any]:
    """``config`` with the space options its space's predictor choice was made with, for those it
    does not name, and the space built from the result (the config's own where it names them all)."""
    space = build_space(config)
    chosen = space_predictor_settings(space, config.train_metric).space_options
    missing = {k: v for k, v in chosen.items() if k not in config.space_options}
    if not missing:
        return config, space
    config = dataclasses.replace(config, space_options={**config.space_options, **missing})
    return config, build_space(config)


def resolve_specs(specs: Mapping[str, tuple[str, Mapping[str, object]]], space: Any, metric: str) -> Specs:
    """Each spec's options over ``space``'s predictor defaults for predictors trained on ``metric``."""
    settings = space_predictor_settings(space, metric)
    return {
        label: (name, with_space_defaults(settings, name, options))
        for label, (name, options) in specs.items()
    }


__all__ = ["Specs", "resolve_specs", "with_chosen_space_options"]
