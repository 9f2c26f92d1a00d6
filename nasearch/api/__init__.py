"""The contracts layer: the types and protocols every other part of nasearch depends on.

A search space, predictor, optimizer or evaluator — built in or plugged in — is written against
these names only, and the core (loop, tracking, compare, curves) uses nothing else of a plug-in.
Optional capabilities are small ``runtime_checkable`` Protocols: ask ``isinstance(space,
Neighbours)`` rather than probing for attributes.
"""

from __future__ import annotations

from nasearch.api.benchmark import Benchmark, Optimum
from nasearch.api.errors import (
    ArchError,
    ConfigError,
    DataError,
    NasearchError,
    RegistryError,
    RunLockedError,
    SetupError,
    StorageError,
)
from nasearch.api.evaluator import (
    Evaluator,
    KnownMetrics,
    KnowsOptimum,
    MultiObjective,
    ReferenceScoring,
    Result,
)
from nasearch.api.fidelity import Job, MultiFidelity, Scheduler
from nasearch.api.graph import ArchGraph
from nasearch.api.objective import Objective, objective_list
from nasearch.api.optimizer import Optimizer, StatefulOptimizer, UsesFitter, UsesKnownMetrics
from nasearch.api.pool import Fitter, Outcome, StartHook, WorkerPool
from nasearch.api.predictor import (
    FitsAndPredicts,
    Hardware,
    MeanStd,
    Predictor,
    PredictsStd,
    Targets,
    accepts_eval_set,
    fit_predictor,
)
from nasearch.api.space import (
    CAPABILITIES,
    AnySpace,
    ArchT,
    BuildsNetwork,
    Categorical,
    CategoricalEncoding,
    Enumerable,
    HasBenchmark,
    Indexable,
    Neighbours,
    OfficialFiles,
    PredictorDefaults,
    PredictorSettings,
    SearchSpace,
    ZeroCostProxies,
    describe_capabilities,
    has_capability,
)

__all__ = [
    "AnySpace",
    "ArchError",
    "ArchT",
    "Categorical",
    "ArchGraph",
    "Benchmark",
    "BuildsNetwork",
    "CAPABILITIES",
    "CategoricalEncoding",
    "ConfigError",
    "DataError",
    "Enumerable",
    "Evaluator",
    "Job",
    "MultiFidelity",
    "Scheduler",
    "FitsAndPredicts",
    "HasBenchmark",
    "Hardware",
    "Indexable",
    "KnownMetrics",
    "KnowsOptimum",
    "MeanStd",
    "MultiObjective",
    "NasearchError",
    "Neighbours",
    "OfficialFiles",
    "Optimizer",
    "Optimum",
    "Predictor",
    "PredictorDefaults",
    "PredictorSettings",
    "PredictsStd",
    "ReferenceScoring",
    "RegistryError",
    "Result",
    "RunLockedError",
    "SearchSpace",
    "SetupError",
    "StatefulOptimizer",
    "StorageError",
    "Targets",
    "UsesFitter",
    "UsesKnownMetrics",
    "ZeroCostProxies",
    "Fitter",
    "Outcome",
    "StartHook",
    "WorkerPool",
    "accepts_eval_set",
    "describe_capabilities",
    "fit_predictor",
    "has_capability",
    "Objective",
    "objective_list",
]
