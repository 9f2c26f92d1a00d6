"""The SearchSpace contract and its optional capabilities.

Required of every space: ``sample``, ``mutate``, ``to_graph``, ``key``, ``to_str``, ``from_str``.
Optional capabilities are small ``runtime_checkable`` Protocols a space may satisfy; whoever needs
one asks ``isinstance(space, Neighbours)`` (or ``has_capability(space, "neighbours")``).
Architecture objects are the space's own (hashable) values; optimizers only pass them back. A space
states its architecture type as ``SearchSpace[Arch]``; the core, which only passes architectures
through, holds an ``AnySpace``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

import numpy as np

from nasearch.api.graph import ArchGraph
from nasearch.api.space_calls import to_graph

if TYPE_CHECKING:
    from nasearch.api.benchmark import Benchmark

#: a space's architecture type (any hashable value: a tuple of ops, a frozen dataclass ...)
ArchT = TypeVar("ArchT", bound=Hashable)
ArchT_co = TypeVar("ArchT_co", bound=Hashable, covariant=True)
ArchT_contra = TypeVar("ArchT_contra", bound=Hashable, contravariant=True)


class SearchSpace(ABC, Generic[ArchT]):
    """Base class with the required methods; subclasses add the optional capabilities they have.
    Generic over the architecture type: ``class MySpace(SearchSpace[MyArch])``."""

    #: registry name of the space, used in tracking and configs
    name: str = ""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> ArchT:
        """A uniformly random valid architecture."""

    @abstractmethod
    def mutate(self, arch: ArchT, rng: np.random.Generator) -> ArchT:
        """A random valid architecture one mutation away (never ``arch`` itself)."""

    @abstractmethod
    def to_graph(self, arch: ArchT) -> ArchGraph:
        """The cell as an ArchGraph (what predictors see)."""

    def key(self, arch: ArchT) -> str:
        """Equal for isomorphic cells: the de-duplication key."""
        return to_graph(self, arch).key  # a bad graph names this space and the cell

    @abstractmethod
    def to_str(self, arch: ArchT) -> str:
        """A string that ``from_str`` parses back: what tracking stores."""

    @abstractmethod
    def from_str(self, text: str) -> ArchT:
        """Parse ``to_str``'s output; an ArchError names what is wrong."""

    def parse(self, text: str) -> ArchT:
        """Parse any user-facing form (CLI argument); by default the same as ``from_str``."""
        return self.from_str(text)


#: a space whose architecture type the holder does not know (the core: it only passes architectures on)
AnySpace: TypeAlias = SearchSpace[Any]


@runtime_checkable
class Neighbours(Protocol[ArchT]):
    """Every architecture one edit away (local search)."""

    def neighbours(self, arch: ArchT) -> list[ArchT]:
        """The valid architectures one edit from ``arch``."""
        ...


@runtime_checkable
class Enumerable(Protocol[ArchT_co]):
    """The whole space can be listed (predictor comparisons, benchmark optima)."""

    def enumerate(self) -> Iterator[ArchT_co]:
        """Every architecture, in the space's fixed order."""
        ...


@runtime_checkable
class Indexable(Protocol[ArchT_co]):
    """An architecture can be fetched by its position in the enumeration order (a table row)."""

    def from_index(self, index: int) -> ArchT_co:
        """The architecture at ``index`` of ``enumerate()``."""
        ...


#: a categorical parameter's value (what Optuna's ``suggest_categorical`` takes)
Categorical = None | bool | int | float | str


@runtime_checkable
class CategoricalEncoding(Protocol[ArchT]):
    """The space as named categorical parameters (what Optuna's samplers drive)."""

    def categorical_choices(self) -> Mapping[str, Sequence[Categorical]]:
        """Parameter name -> its choices."""
        ...

    def to_categorical(self, arch: ArchT) -> Mapping[str, Categorical]:
        """``arch`` as parameter values."""
        ...

    def from_categorical(self, params: Mapping[str, Categorical]) -> ArchT:
        """Parameter values -> an architecture (an ArchError if they make none)."""
        ...


@runtime_checkable
class BuildsNetwork(Protocol[ArchT_contra]):
    """A torch module can be built for an architecture (real training, measured latency)."""

    def network(self, arch: ArchT_contra, **options: Any) -> Any:
        """The trainable network of ``arch``."""
        ...


@runtime_checkable
class HasBenchmark(Protocol):
    """Recorded metrics can be looked up (tabular benchmark)."""

    def benchmark(self) -> Benchmark:
        """The space's benchmark tables."""
        ...


@runtime_checkable
class OfficialFiles(Protocol):
    """The space's benchmark can also read official large files from a data folder (``nasearch data``
    lists them and ``nasearch data fetch`` downloads them)."""

    @classmethod
    def official_files(cls) -> Mapping[str, Any]:
        """Fetch name -> ``nasearch.data.fetch.OfficialFile``."""
        ...


@runtime_checkable
class ZeroCostProxies(Protocol[ArchT_contra]):
    """Scores of an architecture's untrained network (zero-cost proxies such as synflow, FLOPs,
    parameters), for every architecture and without any training: unlabeled information a predictor
    can pre-train on (``pretrain: {space: ...}``, ``nasearch.predictors.pretraining``)."""

    def proxy_names(self) -> Sequence[str]:
        """The proxies ``proxies`` returns, in a fixed order."""
        ...

    def proxies(self, arch: ArchT_contra) -> Mapping[str, float]:
        """Proxy name -> its finite score for ``arch`` (higher: the larger network or stronger signal)."""
        ...


@dataclass(frozen=True)
class PredictorSettings:
    """A space's own settings for the predictors evaluated on it (``PredictorDefaults``): what its
    selection chose, which a comparison applies under the options a user gives explicitly and over
    the predictor's own defaults."""

    #: predictor registry name -> its options on this space (only those the space sets)
    options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    #: the space's own constructor options the settings were chosen with (e.g. a cell encoding):
    #: ``nasearch compare`` sets those its config does not name; a search never does
    space_options: Mapping[str, object] = field(default_factory=dict)


@runtime_checkable
class PredictorDefaults(Protocol):
    """The space carries its own predictor defaults: the settings chosen on its validation cells,
    which ``nasearch compare`` (CLI and Python) fits where a config leaves an option out. Precedence:
    explicit options > these > the predictor's own ``option_defaults``. The surrogates of
    predictor-guided searches never read them (they keep their own small, fast settings)."""

    def predictor_defaults(self, metric: str) -> PredictorSettings:
        """The settings for predictors trained on ``metric`` (empty where the space chose none)."""
        ...


#: capability name (as ``nasearch spaces`` lists it and optimizers require it) -> its Protocol
CAPABILITIES: dict[str, type] = {
    "neighbours": Neighbours,
    "enumerate": Enumerable,
    "from_index": Indexable,
    "categorical_choices": CategoricalEncoding,
    "network": BuildsNetwork,
    "benchmark": HasBenchmark,
    "official_files": OfficialFiles,
    "proxies": ZeroCostProxies,
    "predictor_defaults": PredictorDefaults,
}


def has_capability(space: object, capability: str) -> bool:
    """Whether ``space`` (an instance or a class) offers ``capability``: a key of ``CAPABILITIES``, or
    else the name of a method a plug-in optimizer needs that no Protocol here describes."""
    protocol = CAPABILITIES.get(capability)
    if protocol is None:
        return callable(getattr(space, capability, None))
    return isinstance(space, protocol)


def describe_capabilities(space: object) -> Mapping[str, bool]:
    """Which optional capabilities a space (instance or class) offers (for ``nasearch spaces``)."""
    return {name: has_capability(space, name) for name in CAPABILITIES}
