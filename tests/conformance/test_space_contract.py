"""Every registered search space against the SearchSpace contract and the capabilities it declares.

Parametrized over ``SEARCH_SPACES.names()``: a newly registered space is tested at once (and
fails until it has a recipe below). Each capability of ``nasearch.api.CAPABILITIES`` a space
offers (``describe_capabilities``) is exercised on sampled cells.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from conformance.recipes import recipe, stale_recipes
from nasearch.api import CAPABILITIES, ArchError, ArchGraph, Benchmark, describe_capabilities
from nasearch.config.registry import SEARCH_SPACES


@dataclass(frozen=True)
class SpaceRecipe:
    """How to build a space cheaply, and the options of a small ``network`` for it."""

    build: Callable[[pytest.FixtureRequest], Any]
    network: dict[str, Any] = field(default_factory=dict)


def _nasbench101(request: pytest.FixtureRequest) -> Any:
    """NB101 with its hash index loaded (cached under $NASEARCH_CACHE after the first build)."""
    from nasearch.search_spaces.nasbench101.index import load_index

    space = SEARCH_SPACES.create("nasbench101", data_dir=str(request.getfixturevalue("data_root")))
    space._index = load_index()
    return space


RECIPES: dict[str, SpaceRecipe] = {
    "nasbench201": SpaceRecipe(lambda request: request.getfixturevalue("nb201_space"), {"C": 4, "N": 1}),
    "nasbench101": SpaceRecipe(_nasbench101, {"stem_channels": 4, "num_stacks": 1, "modules_per_stack": 1}),
    "chain": SpaceRecipe(lambda request: SEARCH_SPACES.create("chain"), {}),
}

#: known defects: (space, test) -> reason; those cases are strict xfails (none now: NB201's mutate
#: redraws a change that keeps its parent's key since issue #27)
DEFECTS: dict[tuple[str, str], str] = {}

_SPACES: dict[str, Any] = {}


def _space(name: str, request: pytest.FixtureRequest) -> Any:
    """The space ``name`` from its recipe, built once per session."""
    if name not in _SPACES:
        _SPACES[name] = _recipe(name).build(request)
    return _SPACES[name]


def _recipe(name: str) -> SpaceRecipe:
    return recipe(RECIPES, "search space", name, "RECIPES in tests/conformance/test_space_contract.py")


def _names(test: str) -> list[Any]:
    """Every registered space, with a strict xfail where DEFECTS names a known defect for ``test``."""
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=DEFECTS[n, test]))
        if (n, test) in DEFECTS
        else n
        for n in SEARCH_SPACES.names()
    ]


def _samples(space: Any, n: int, seed: int = 0) -> list[Hashable]:
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def _assert_valid(space: Any, arch: Hashable) -> None:
    """``arch`` is a cell of ``space``: its string parses back to an equal cell with the same key,
    and its graph is a valid ArchGraph."""
    text = space.to_str(arch)
    assert isinstance(text, str) and text
    back = space.from_str(text)
    assert back == arch and space.to_str(back) == text
    key = space.key(arch)
    assert isinstance(key, str) and key and space.key(back) == key
    _assert_valid_graph(space.to_graph(arch))


def _assert_valid_graph(graph: Any) -> None:
    """An ArchGraph whose node 0 is the one input (no predecessors), whose last node is the one
    output (no successors), and whose output is reachable from its input."""
    assert isinstance(graph, ArchGraph)
    assert graph.n_nodes >= 2
    last = graph.n_nodes - 1
    assert not graph.predecessors(0) and not graph.successors(last)
    reached = {0}
    for v in range(graph.n_nodes):
        if v in reached:
            reached.update(graph.successors(v))
    assert last in reached, f"the output of {graph} is cut off from its input"


def _random_topological_order(graph: ArchGraph, rng: np.random.Generator) -> list[int]:
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


def _reordered(graph: ArchGraph, order: list[int]) -> ArchGraph:
    """The same cell with node ``order[k]`` at position k (an isomorphic graph)."""
    attrs = None if graph.attrs is None else [graph.attrs[i] for i in order]
    return ArchGraph([graph.ops[i] for i in order], graph.adjacency[np.ix_(order, order)], attrs)


def test_every_recipe_is_a_registered_space() -> None:
    assert not stale_recipes(RECIPES, SEARCH_SPACES.names())


@pytest.mark.parametrize("name", SEARCH_SPACES.names())
def test_samples_are_valid_cells(name: str, request: pytest.FixtureRequest) -> None:
    space = _space(name, request)
    cells = _samples(space, 20)
    for arch in cells:
        _assert_valid(space, arch)
    assert len({space.to_str(a) for a in cells}) > 1, "sample gives one cell only"


@pytest.mark.parametrize("name", SEARCH_SPACES.names())
def test_mutate_returns_another_valid_cell(name: str, request: pytest.FixtureRequest) -> None:
    space = _space(name, request)
    rng = np.random.default_rng(1)
    for arch in _samples(space, 30):
        child = space.mutate(arch, rng)
        _assert_valid(space, child)
        assert space.to_str(child) != space.to_str(arch)


@pytest.mark.parametrize("name", _names("key"))
def test_mutate_never_returns_the_same_key(name: str, request: pytest.FixtureRequest) -> None:
    """A mutation is a new cell for the optimizers' de-duplication, not an isomorph of its parent."""
    space = _space(name, request)
    rng = np.random.default_rng(2)
    for arch in _samples(space, 100):
        child = space.mutate(arch, rng)
        assert space.key(child) != space.key(arch), (
            f"{space.to_str(child)} has the key of {space.to_str(arch)}"
        )


@pytest.mark.parametrize("name", SEARCH_SPACES.names())
def test_from_str_names_a_bad_string(name: str, request: pytest.FixtureRequest) -> None:
    space = _space(name, request)
    with pytest.raises(ArchError):
        space.from_str("this is no cell")


@pytest.mark.parametrize("name", SEARCH_SPACES.names())
def test_graph_key_is_invariant_under_node_reordering(name: str, request: pytest.FixtureRequest) -> None:
    """Listing a cell's intermediate nodes in another topological order gives an isomorphic
    graph with the same ``ArchGraph.key``; a mutated cell's graph has another key."""
    space = _space(name, request)
    rng = np.random.default_rng(3)
    for arch in _samples(space, 10):
        graph = space.to_graph(arch)
        for _ in range(3):
            assert _reordered(graph, _random_topological_order(graph, rng)).key == graph.key
        child = space.to_graph(space.mutate(arch, rng))
        if _labels(child) != _labels(graph):
            assert child.key != graph.key, f"{child} and {graph} differ in their ops but share a key"


def _labels(graph: ArchGraph) -> list[str]:
    return sorted(graph.node_label(v) for v in range(graph.n_nodes))


# --- capabilities --------------------------------------------------------------------------------------
def _neighbours(space: Any, arch: Hashable, options: SpaceRecipe) -> None:
    out = space.neighbours(arch)
    assert out, "no neighbours"
    texts = [space.to_str(a) for a in out]
    assert space.to_str(arch) not in texts and len(set(texts)) == len(texts)
    for other in out[:10]:
        _assert_valid(space, other)


def _enumerate(space: Any, arch: Hashable, options: SpaceRecipe) -> None:
    first = list(itertools.islice(space.enumerate(), 5))
    assert len(first) == 5 and len({space.to_str(a) for a in first}) == 5
    for cell in first:
        _assert_valid(space, cell)


def _from_index(space: Any, arch: Hashable, options: SpaceRecipe) -> None:
    zero, one = space.from_index(0), space.from_index(1)
    _assert_valid(space, zero)
    assert space.to_str(zero) != space.to_str(one)
    if describe_capabilities(space)["enumerate"]:
        assert [space.to_str(a) for a in itertools.islice(space.enumerate(), 2)] == [
            space.to_str(zero),
            space.to_str(one),
        ]


def _categorical(space: Any, arch: Hashable, options: SpaceRecipe) -> None:
    choices = space.categorical_choices()
    params = space.to_categorical(arch)
    assert set(params) == set(choices)
    assert all(params[p] in choices[p] for p in params)
    assert space.key(space.from_categorical(params)) == space.key(arch)
    with pytest.raises(ArchError):
        space.from_categorical({})


def _network(space: Any, arch: Hashable, options: SpaceRecipe) -> None:
    import torch

    net = space.network(arch, num_classes=7, **options.network)
    assert isinstance(net, torch.nn.Module)
    with torch.no_grad():
        out = net.eval()(torch.zeros(2, 3, 16, 16))
    assert tuple(out.shape) == (2, 7)


def _benchmark(space: Any, arch: Hashable, options: SpaceRecipe) -> None:
    bench = space.benchmark()
    assert isinstance(bench, Benchmark)
    metrics = bench.metrics()
    assert metrics
    record = bench.query(arch)
    assert record and set(record) <= set(metrics)
    assert all(isinstance(v, float) for v in record.values())


def _official_files(space: Any, arch: Hashable, options: SpaceRecipe) -> None:
    from pathlib import PurePosixPath

    from nasearch.data.fetch import OfficialFile

    files = type(space).official_files()  # a classmethod: `nasearch data` lists them without a space
    assert files == space.official_files() and files
    for name, file in files.items():
        assert isinstance(file, OfficialFile) and file.name == name  # the name `nasearch data fetch` takes
        path = PurePosixPath(file.path)
        assert not path.is_absolute() and ".." not in path.parts  # a place inside the data folder
        assert file.url or file.how  # a download, or where to get it


#: capability -> a check on a sampled cell (a capability added to CAPABILITIES needs one here)
CAPABILITY_CHECKS: dict[str, Callable[[Any, Hashable, SpaceRecipe], None]] = {
    "neighbours": _neighbours,
    "enumerate": _enumerate,
    "from_index": _from_index,
    "categorical_choices": _categorical,
    "network": _network,
    "benchmark": _benchmark,
    "official_files": _official_files,
}


def test_every_capability_has_a_check() -> None:
    assert set(CAPABILITY_CHECKS) == set(CAPABILITIES)


@pytest.mark.parametrize("capability", sorted(CAPABILITIES))
@pytest.mark.parametrize("name", SEARCH_SPACES.names())
def test_declared_capability_works(name: str, capability: str, request: pytest.FixtureRequest) -> None:
    space = _space(name, request)
    if not describe_capabilities(space)[capability]:
        pytest.skip(f"{name} does not offer {capability}")
    check = CAPABILITY_CHECKS.get(capability)
    if check is None:
        pytest.fail(
            f"add a conformance check for the capability {capability} to CAPABILITY_CHECKS", pytrace=False
        )
    for arch in _samples(space, 3, seed=4):
        check(space, arch, _recipe(name))
