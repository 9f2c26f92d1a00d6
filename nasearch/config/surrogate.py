"""The ``surrogate:`` of a predictor-guided optimizer, resolved once into a typed factory.

A surrogate is any registered predictor (``nnformer``, ``mlp``, ... or a ``pkg.mod:Class`` path),
named as ``NAME`` or ``{name: NAME, options: {...}}`` (options may also be inline), or a ready
predictor object (Python). The run schema resolves it when the config is read; the optimizer then
only calls the factory for fresh, seeded predictors.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from nasearch.api import FitsAndPredicts, PredictsStd
from nasearch.api.errors import ConfigError
from nasearch.config.options import accepted_options
from nasearch.config.registry import PREDICTORS


def predictor_spec(spec: object) -> tuple[str, dict[str, object]] | FitsAndPredicts:
    """Normalise ``NAME`` / ``{name, options, ...}`` to ``(name, options)``; objects pass through."""
    if spec is None:
        raise ConfigError("a predictor-guided optimizer needs a surrogate, e.g. surrogate: {name: nnformer}")
    if isinstance(spec, FitsAndPredicts):
        return spec
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, Mapping):
        if "name" not in spec:
            raise ConfigError(f"surrogate {dict(spec)!r} needs a 'name' (a registered predictor)")
        options = dict(spec.get("options") or {})
        extra = {k: v for k, v in spec.items() if k not in ("name", "options")}
        clash = set(extra) & set(options)
        if clash:
            raise ConfigError(f"surrogate option(s) {sorted(clash)} given both inline and under 'options'")
        options.update(extra)
        return str(spec["name"]), options
    raise ConfigError(f"surrogate must be a predictor name or a mapping with 'name', got {spec!r}")


@dataclass(frozen=True)
class PredictorFactory:
    """Fresh predictors of one surrogate spec: a registered name with its options, or copies of a
    ready predictor object. ``takes_seed``: the constructor takes a ``seed`` the spec leaves open."""

    name: str | None
    options: Mapping[str, object] = field(default_factory=dict)
    prototype: FitsAndPredicts | None = None
    takes_seed: bool = False

    def __call__(self, seed: int | None = None) -> FitsAndPredicts:
        """A fresh, unfitted predictor; ``seed`` is passed where the constructor takes one."""
        if self.prototype is not None:
            return copy.deepcopy(self.prototype)
        assert self.name is not None
        extra = {"seed": seed} if seed is not None and self.takes_seed else {}
        predictor: FitsAndPredicts = PREDICTORS.create(self.name, **self.options, **extra)
        return predictor

    @property
    def has_uncertainty(self) -> bool:
        """Whether the predictor implements ``predict_std``."""
        target = self.prototype if self.prototype is not None else PREDICTORS.get(str(self.name))
        return isinstance(target, PredictsStd)


def resolve_predictor(spec: object) -> PredictorFactory:
    """The factory of a surrogate spec (a factory passes as it is). Whether a constructor that takes
    only ``**options`` accepts a ``seed`` is found here, once, by building one predictor with it."""
    if isinstance(spec, PredictorFactory):
        return spec
    norm = predictor_spec(spec)
    if not isinstance(norm, tuple):
        return PredictorFactory(None, {}, norm)
    name, options = norm
    named, var_kw = accepted_options(PREDICTORS.get(name))
    takes_seed = "seed" not in options and ("seed" in named or var_kw)
    if takes_seed and "seed" not in named:
        try:
            PREDICTORS.create(name, **options, seed=0)  # cheap: no model until fit
        except ConfigError:
            takes_seed = False
    return PredictorFactory(name, options, None, takes_seed)


__all__ = ["PredictorFactory", "predictor_spec", "resolve_predictor"]
