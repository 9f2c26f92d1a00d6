"""Name -> class registries for the pluggable parts: search spaces, predictors, optimizers, evaluators.

A name resolves, in order, to: a class registered in-process (``@SEARCH_SPACES.register("x")``),
a built-in (imported lazily, so optional dependencies load only when used), an installed entry
point of the registry's group (``nasearch.search_spaces`` ...), or a ``"pkg.module:Class"`` path
(imported from ``sys.path``, else from the config file's folder or the working directory).
A plug-in is checked against the registry's contract and a missing method is named.
A ``Registry[T]`` resolves names to factories of ``T`` (a class, or a function returning one).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar, cast

from nasearch.api import AnySpace, Evaluator, FitsAndPredicts, Optimizer, Scheduler
from nasearch.api.errors import RegistryError, suggest
from nasearch.config.module_paths import import_module
from nasearch.config.options import call_with_options

#: what a registry's factories make (covariant: a ``Registry[Optimizer]`` is a ``Registry[object]``)
T_co = TypeVar("T_co", covariant=True)
#: a factory being registered (returned unchanged by the decorator)
F = TypeVar("F", bound=Callable[..., object])


class Registry(Generic[T_co]):
    """One kind of pluggable part: built-ins by module path, plug-ins by entry point or path.
    ``get`` gives the factory (class) a name resolves to, ``create`` calls it."""

    def __init__(
        self,
        kind: str,
        group: str,
        builtins: dict[str, str],
        required: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self.group = group
        self._builtins = dict(builtins)
        self._registered: dict[str, Callable[..., T_co]] = {}
        self.required = tuple(required)

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator: make ``cls`` available under ``name`` in this process."""

        def deco(obj: F) -> F:
            self.check(obj, name)
            self._registered[name] = cast("Callable[..., T_co]", obj)  # checked against the contract
            return obj

        return deco

    def unregister(self, name: str) -> None:
        """Forget an in-process registration (tests; a no-op for names registered otherwise)."""
        self._registered.pop(name, None)

    def _entry_points(self) -> dict[str, EntryPoint]:
        return _entry_points(self.group)

    def names(self) -> list[str]:
        """Every name this registry can resolve without a module path."""
        return sorted(set(self._builtins) | set(self._registered) | set(self._entry_points()))

    def sources(self) -> dict[str, str]:
        """Name -> where it comes from (module path or entry-point value), for listings."""
        out = {name: path for name, path in self._builtins.items()}
        out.update({name: ep.value for name, ep in self._entry_points().items()})
        out.update({name: f"{obj.__module__}:{obj.__qualname__}" for name, obj in self._registered.items()})
        return dict(sorted(out.items()))

    def get(self, name: str) -> Callable[..., T_co]:
        """Resolve ``name`` to its class (or factory), checked against the contract."""
        if not isinstance(name, str) or not name:
            raise RegistryError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if name in self._registered:
            return self._registered[name]
        obj: object
        if name in self._builtins:
            obj = _import_path(self._builtins[name], f"built-in {self.kind} {name!r}")
        else:
            eps = self._entry_points()
            if name in eps:
                try:
                    obj = eps[name].load()
                except Exception as exc:  # noqa: BLE001 - any import failure of a plug-in
                    raise RegistryError(
                        f"{self.kind} {name!r} (entry point {eps[name].value!r}) failed to load: {exc}"
                    ) from exc
            elif ":" in name:
                obj = _import_path(name, f"{self.kind} {name!r}")
            else:
                raise RegistryError(
                    f"unknown {self.kind} {name!r}{suggest(name, self.names(), n=3)} (known: "
                    f"{', '.join(self.names())}; "
                    f"or give a 'package.module:Class' path)"
                )
        self.check(obj, name)
        return cast("Callable[..., T_co]", obj)  # checked: it has the contract's methods

    def check(self, obj: object, name: str) -> None:
        """Raise a RegistryError naming every contract method ``obj`` lacks. The lookup is static
        (``inspect.getattr_static``): checking runs none of the object's own code, so a path to
        something that is not a plug-in (``ctypes:cdll``) is refused, not called."""

        def has(method: str) -> bool:
            try:
                return callable(inspect.getattr_static(obj, method))
            except AttributeError:
                return False

        missing = [m for m in self.required if not has(m)]
        if missing:
            where = f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', obj)!s}"
            raise RegistryError(
                f"{self.kind} {name!r} ({where}) does not implement the {self.kind} contract: "
                f"missing method(s) {', '.join(missing)}"
            )

    def create(self, name: str, **options: Any) -> T_co:
        """Resolve ``name`` and call it with ``options`` (config blocks are constructor kwargs)."""
        made: T_co = call_with_options(self.get(name), options, f"{self.kind} {name!r}")
        return made


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    """The installed entry points of ``group`` (read once per process: scanning metadata is slow)."""
    return {ep.name: ep for ep in entry_points(group=group)}


def _import_path(path: str, what: str) -> object:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise RegistryError(f"{what}: {path!r} is not of the form 'package.module:Class'")
    try:
        module = import_module(module_name)
    except ImportError as exc:
        raise RegistryError(f"{what}: cannot import module {module_name!r}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - the module's own code failed while importing
        raise RegistryError(
            f"{what}: importing module {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    obj: object = module
    for part in attr.split("."):
        try:
            obj = inspect.getattr_static(obj, part) if not inspect.ismodule(obj) else getattr(obj, part)
        except AttributeError:
            raise RegistryError(f"{what}: module {module_name!r} has no attribute {attr!r}") from None
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    return obj


# Built-in optimizers and evaluators are part of the core. The built-in search spaces, predictors and the
# NB201 hardware-aware evaluator are plug-ins like any other: setup.cfg declares them as entry points of
# these groups, so the core names no concrete space or predictor.
SEARCH_SPACES: Registry[AnySpace] = Registry(
    "search space",
    "nasearch.search_spaces",
    {},
    required=("sample", "mutate", "to_graph", "key", "to_str", "from_str"),
)

PREDICTORS: Registry[FitsAndPredicts] = Registry(
    "predictor", "nasearch.predictors", {}, required=("fit", "predict")
)

OPTIMIZERS: Registry[Optimizer] = Registry(
    "optimizer",
    "nasearch.optimizers",
    {
        "random": "nasearch.optimizers.random_search:RandomSearch",
        "evolution": "nasearch.optimizers.evolution:RegularizedEvolution",
        "local_search": "nasearch.optimizers.local_search:LocalSearch",
        "predictor_evolution": "nasearch.optimizers.predictor_evolution:PredictorEvolution",
        "predictor_local_search": "nasearch.optimizers.predictor_local_search:PredictorLocalSearch",
        "bayesian": "nasearch.optimizers.bayesian:BayesianOptimization",
        "optuna": "nasearch.optimizers.optuna_sampler:OptunaSampler",
        "pareto_mutation": "nasearch.optimizers.pareto_mutation:ParetoMutation",
        "front_ehvi": "nasearch.optimizers.front_ehvi:FrontEHVI",
    },
    required=("ask", "tell"),
)

EVALUATORS: Registry[Evaluator] = Registry(
    "evaluator",
    "nasearch.evaluators",
    {
        "benchmark": "nasearch.evaluation.benchmark:BenchmarkEvaluator",
        "train": "nasearch.evaluation.training:TrainingEvaluator",
        "latency": "nasearch.evaluation.latency:LatencyEvaluator",
    },
    required=("evaluate",),
)

SCHEDULERS: Registry[Scheduler] = Registry(
    "scheduler",
    "nasearch.schedulers",
    {
        "full": "nasearch.schedulers.full:FullFidelity",
        "successive_halving": "nasearch.schedulers.halving:SuccessiveHalving",
        "hyperband": "nasearch.schedulers.halving:Hyperband",
        "top_k": "nasearch.schedulers.halving:TopK",
        "asha": "nasearch.schedulers.asha:ASHA",
        "surrogate": "nasearch.schedulers.surrogate:SurrogateScheduler",
    },
    required=("next_job", "report"),
)

ALL_REGISTRIES: dict[str, Registry[object]] = {
    "search_spaces": SEARCH_SPACES,
    "predictors": PREDICTORS,
    "optimizers": OPTIMIZERS,
    "evaluators": EVALUATORS,
    "schedulers": SCHEDULERS,
}
