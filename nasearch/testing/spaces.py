"""The SearchSpace contract as checks: sampled and mutated cells are valid and round-trip through
their strings, a mutation never returns its parent's key, a bad string is an ``ArchError``, the graph
key is isomorphism-invariant, and each capability the space declares works (its predictor defaults
name registered predictors, options they take and values they accept, for every benchmark metric)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from nasearch.api import (
    CAPABILITIES,
    ArchError,
    ArchGraph,
    Benchmark,
    ConfigError,
    HasBenchmark,
    describe_capabilities,
)
from nasearch.config.space_defaults import check_predictor_settings
from nasearch.data.fetch import OfficialFile
from nasearch.testing.checks import Check, CheckSkipped, check, label, raises, run_checks


@dataclass
class SpaceCase:
    """A search space under test: the space (or a zero-argument factory, called once when a check
    first needs it), and the options of a small ``network`` for the ``network`` capability."""

    space_or_factory: Any
    network: Mapping[str, object] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            self.name = label(self.space_or_factory)

    @cached_property
    def space(self) -> Any:
        """The space under test (built on first use)."""
        subject = self.space_or_factory
        if isinstance(subject, type) or not hasattr(subject, "sample"):
            return subject()
        return subject


def samples(space: Any, n: int, seed: int = 0) -> list[Hashable]:
    """``n`` cells drawn by ``space.sample`` from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def assert_valid_cell(space: Any, arch: Hashable) -> None:
    """``arch`` is a cell of ``space``: its string parses back to an equal cell with the same key,
    and its graph is a valid ArchGraph."""
    text = space.to_str(arch)
    assert isinstance(text, str) and text, f"to_str gave {text!r}, not a non-empty string"
    back = space.from_str(text)
    assert back == arch, f"from_str(to_str(arch)) gave {back!r}, not {arch!r}"
    assert space.to_str(back) == text, f"{text!r} does not round-trip through from_str / to_str"
    key = space.key(arch)
    assert isinstance(key, str) and key, f"key gave {key!r}, not a non-empty string"
    assert space.key(back) == key, f"the cell parsed back from {text!r} has another key"
    assert_valid_graph(space.to_graph(arch))


def assert_valid_graph(graph: object) -> None:
    """An ArchGraph whose node 0 is the one input (no predecessors), whose last node is the one
    output (no successors), and whose output is reachable from its input."""
    assert isinstance(graph, ArchGraph), f"to_graph gave a {type(graph).__name__}, not an ArchGraph"
    assert graph.n_nodes >= 2, f"{graph} has fewer than two nodes"
    last = graph.n_nodes - 1
    assert not graph.predecessors(0), f"the input node of {graph} has predecessors"
    assert not graph.successors(last), f"the output node of {graph} has successors"
    reached = {0}
    for v in range(graph.n_nodes):
        if v in reached:
            reached.update(graph.successors(v))
    assert last in reached, f"the output of {graph} is cut off from its input"


def random_topological_order(graph: ArchGraph, rng: np.random.Generator) -> list[int]:
    """A random topological order of ``graph``'s nodes with the input first and the output last."""
    n = graph.n_nodes
    indegree = {v: len(graph.predecessors(v)) for v in range(1, n - 1)}
    for v in graph.successors(0):
        if v in indegree:
            indegree[v] -= 1
    order = [0]
    while indegree:
        ready = sorted(v for v, d in indegree.items() if d == 0)
        v = ready[int(rng.integers(len(ready)))]
        del indegree[v]
        order.append(v)
        for w in graph.successors(v):
            if w in indegree:
                indegree[w] -= 1
    return order + [n - 1]


def reordered(graph: ArchGraph, order: list[int]) -> ArchGraph:
    """The same cell with node ``order[k]`` at position k (an isomorphic graph)."""
    attrs = None if graph.attrs is None else [graph.attrs[i] for i in order]
    return ArchGraph([graph.ops[i] for i in order], graph.adjacency[np.ix_(order, order)], attrs)


def _labels(graph: ArchGraph) -> list[str]:
    return sorted(graph.node_label(v) for v in range(graph.n_nodes))


# --- the required methods -------------------------------------------------------------------------------
@check("samples_are_valid_cells")
def _samples_are_valid(case: SpaceCase) -> None:
    """20 sampled cells are valid and not all the same."""
    space = case.space
    cells = samples(space, 20)
    for arch in cells:
        assert_valid_cell(space, arch)
    assert len({space.to_str(a) for a in cells}) > 1, "sample gives one cell only"


@check("mutate_returns_another_valid_cell")
def _mutate_is_valid(case: SpaceCase) -> None:
    """A mutation of each of 30 sampled cells is a valid, different cell."""
    space = case.space
    rng = np.random.default_rng(1)
    for arch in samples(space, 30):
        child = space.mutate(arch, rng)
        assert_valid_cell(space, child)
        assert space.to_str(child) != space.to_str(arch), f"mutate returned {space.to_str(arch)} itself"


@check("mutate_never_returns_the_same_key")
def _mutate_new_key(case: SpaceCase) -> None:
    """A mutation is a new cell for the optimizers' de-duplication, not an isomorph of its parent."""
    space = case.space
    rng = np.random.default_rng(2)
    for arch in samples(space, 100):
        child = space.mutate(arch, rng)
        assert space.key(child) != space.key(arch), (
            f"{space.to_str(child)} has the key of {space.to_str(arch)}"
        )


@check("from_str_names_a_bad_string")
def _bad_string(case: SpaceCase) -> None:
    """``from_str`` of a string that is no cell raises ``ArchError``."""
    space = case.space
    raises(ArchError, lambda: space.from_str("this is no cell"), "from_str('this is no cell')")


@check("graph_key_is_invariant_under_node_reordering")
def _key_invariant(case: SpaceCase) -> None:
    """Listing a cell's intermediate nodes in another topological order gives an isomorphic graph
    with the same ``ArchGraph.key``; a mutated cell whose ops differ has another key."""
    space = case.space
    rng = np.random.default_rng(3)
    for arch in samples(space, 10):
        graph = space.to_graph(arch)
        for _ in range(3):
            other = reordered(graph, random_topological_order(graph, rng))
            assert other.key == graph.key, f"{other} is {graph} reordered but has another key"
        child = space.to_graph(space.mutate(arch, rng))
        if _labels(child) != _labels(graph):
            assert child.key != graph.key, f"{child} and {graph} differ in their ops but share a key"


# --- the capabilities -----------------------------------------------------------------------------------
def _neighbours(space: Any, arch: Hashable, case: SpaceCase) -> None:
    out = space.neighbours(arch)
    assert out, "no neighbours"
    texts = [space.to_str(a) for a in out]
    assert space.to_str(arch) not in texts, "a cell is its own neighbour"
    assert len(set(texts)) == len(texts), "a neighbour is listed twice"
    for other in out[:10]:
        assert_valid_cell(space, other)


def _enumerate(space: Any, arch: Hashable, case: SpaceCase) -> None:
    first = list(itertools.islice(space.enumerate(), 5))
    assert len(first) == 5 and len({space.to_str(a) for a in first}) == 5, "enumerate repeats a cell"
    for cell in first:
        assert_valid_cell(space, cell)


def _from_index(space: Any, arch: Hashable, case: SpaceCase) -> None:
    zero, one = space.from_index(0), space.from_index(1)
    assert_valid_cell(space, zero)
    assert space.to_str(zero) != space.to_str(one), "from_index(0) and from_index(1) are one cell"
    if describe_capabilities(space)["enumerate"]:
        first = [space.to_str(a) for a in itertools.islice(space.enumerate(), 2)]
        assert first == [space.to_str(zero), space.to_str(one)], "from_index is not enumerate's order"


def _categorical(space: Any, arch: Hashable, case: SpaceCase) -> None:
    choices = space.categorical_choices()
    params = space.to_categorical(arch)
    assert set(params) == set(choices), "to_categorical names other parameters than categorical_choices"
    bad = {p: v for p, v in params.items() if v not in choices[p]}
    assert not bad, f"to_categorical gave values outside categorical_choices: {bad}"
    assert space.key(space.from_categorical(params)) == space.key(arch), "from_categorical(to_categorical)"
    raises(ArchError, lambda: space.from_categorical({}), "from_categorical({})")


def _network(space: Any, arch: Hashable, case: SpaceCase) -> None:
    import torch  # only here: a space without a network never pays for torch

    net = space.network(arch, num_classes=7, **case.network)
    assert isinstance(net, torch.nn.Module), f"network gave a {type(net).__name__}, not a torch Module"
    with torch.no_grad():
        out = net.eval()(torch.zeros(2, 3, 16, 16))
    assert tuple(out.shape) == (2, 7), f"logits of shape {tuple(out.shape)} for 2 images and 7 classes"


def _benchmark(space: Any, arch: Hashable, case: SpaceCase) -> None:
    bench = space.benchmark()
    assert isinstance(bench, Benchmark), f"benchmark gave a {type(bench).__name__}, not a Benchmark"
    metrics = bench.metrics()
    assert metrics, "the benchmark has no metrics"
    record = bench.query(arch)
    assert record and set(record) <= set(metrics), f"query gave {sorted(record)}, not some of metrics()"
    assert all(isinstance(v, float) for v in record.values()), "query gave a value that is no float"


def _official_files(space: Any, arch: Hashable, case: SpaceCase) -> None:
    files = type(space).official_files()  # a classmethod: `nasearch data` lists them without a space
    assert files == space.official_files() and files, "official_files is no classmethod, or is empty"
    for name, file in files.items():
        assert isinstance(file, OfficialFile), f"official file {name!r} is a {type(file).__name__}"
        assert file.name == name, f"official file {name!r} is named {file.name!r}"  # what `data fetch` takes
        path = PurePosixPath(file.path)
        assert not path.is_absolute() and ".." not in path.parts, f"{file.path} is outside the data folder"
        assert file.url or file.how, f"official file {name!r} says neither a download nor where to get it"


def _proxies(space: Any, arch: Hashable, case: SpaceCase) -> None:
    names = list(space.proxy_names())
    assert names and len(set(names)) == len(names), f"proxy_names gave {names!r}: none, or repeated"
    scores = space.proxies(arch)
    assert list(scores) == names, f"proxies gave {list(scores)}, not proxy_names() {names}"
    bad = {k: v for k, v in scores.items() if not isinstance(v, float) or not math.isfinite(v)}
    assert not bad, f"proxies gave values that are no finite float: {bad}"
    assert space.proxies(arch) == scores, "proxies of one cell differ between two calls"


def _predictor_defaults(space: Any, arch: Hashable, case: SpaceCase) -> None:
    """The space's predictor defaults for each metric of its benchmark pass ``check_predictor_settings``."""
    metrics = space.benchmark().metrics() if isinstance(space, HasBenchmark) else ["accuracy"]
    for metric in metrics:  # registered predictors, options they take, values they accept
        try:
            check_predictor_settings(space, space.predictor_defaults(metric), metric)
        except ConfigError as exc:
            raise AssertionError(str(exc)) from None


#: capability -> a check on a sampled cell (a capability added to ``nasearch.api.CAPABILITIES`` needs one)
CAPABILITY_CHECKS: dict[str, Callable[[Any, Hashable, SpaceCase], None]] = {
    "neighbours": _neighbours,
    "enumerate": _enumerate,
    "from_index": _from_index,
    "categorical_choices": _categorical,
    "network": _network,
    "benchmark": _benchmark,
    "official_files": _official_files,
    "proxies": _proxies,
    "predictor_defaults": _predictor_defaults,
}


def _capability_check(capability: str) -> Check[SpaceCase]:
    def run(case: SpaceCase) -> None:
        space = case.space
        if not describe_capabilities(space)[capability]:
            raise CheckSkipped(f"{label(space)} does not offer {capability}")
        one = CAPABILITY_CHECKS.get(capability)
        assert one is not None, (
            f"no conformance check for the capability {capability}: add one to "
            "nasearch.testing.spaces.CAPABILITY_CHECKS"
        )
        for arch in samples(space, 3, seed=4):
            one(space, arch, case)

    return Check(f"capability_{capability}", run, f"the {capability} capability works, where declared")


#: every check of a search space, in the order ``check_space`` runs them
SPACE_CHECKS: tuple[Check[SpaceCase], ...] = (
    _samples_are_valid,
    _mutate_is_valid,
    _mutate_new_key,
    _bad_string,
    _key_invariant,
    *(_capability_check(c) for c in sorted(CAPABILITIES)),
)


def check_space(space_or_factory: Any, *, network: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Run every search-space check on ``space_or_factory`` (a space, or a zero-argument callable
    making one); ``network`` are the options of a small ``space.network(arch, num_classes=7, ...)``.
    Returns ``{check: "passed" | "skipped: why"}``; raises ``AssertionError`` at the first failure."""
    case = SpaceCase(space_or_factory, dict(network or {}))
    return run_checks(f"search space {case.name!r}", case, SPACE_CHECKS)
