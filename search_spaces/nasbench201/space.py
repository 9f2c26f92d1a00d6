"""The NAS-Bench-201 cell space: 6 edges, each one of 5 ops, 15,625 cells.

An architecture is a tuple of the 6 edge ops in arch-string order
``|e01~0|+|e02~0|e12~1|+|e03~0|e13~1|e23~2|``. ``to_graph`` turns a cell into ops-on-nodes form:
node 0 the input, nodes 1..6 the edge ops in string order, node 7 the output; an op node feeds
every op node whose edge starts where its own edge ends.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from nasearch.api import PredictorSettings, SearchSpace
from nasearch.api.errors import ArchError, shown
from nasearch.api.graph import ArchGraph

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (source node, target node) of each edge, in arch-string order
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_CELLS = len(OPS) ** len(EDGES)

Arch = tuple[str, ...]

#: the predictor settings chosen on NB201's validation cells for accuracy targets, by the cells they
#: see (``prune_graph``): the record of the choice, what ``nasearch compare`` fits where a config names
#: no option. Pruned cells: BENCHMARKS.md ``select_defaults:nnformer_nb201_pruned`` (16,000 steps,
#: ``rank_weight`` 0.2); 8-node cells: ``select_defaults:nnformer_nb201_8node`` (16,000 steps, 1.0).
#: LeDG-Former's choice on pruned cells (``select_defaults:ledgformer_nb201``) is its package default.
PREDICTOR_DEFAULTS: dict[bool, dict[str, dict[str, object]]] = {
    True: {"nnformer": {"max_steps": 16000, "rank_weight": 0.2}},
    False: {"nnformer": {"max_steps": 16000, "rank_weight": 1.0}},
}
#: the cell encoding those selections chose (on the same validation cells, the best pruned candidate's
#: mean tau 0.871 against the best 8-node one's 0.863): a comparison on an accuracy target that names
#: no ``prune_graph`` gets it; searches never do
CHOSEN_SPACE_OPTIONS: dict[str, object] = {"prune_graph": True}

_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d+)$")


def _edge_graph_adjacency() -> np.ndarray:
    n = len(EDGES) + 2
    adj = np.zeros((n, n), dtype=np.int8)
    for k, (src, dst) in enumerate(EDGES):
        node = k + 1
        if src == 0:
            adj[0, node] = 1
        if dst == 3:
            adj[node, n - 1] = 1
        for k2, (src2, _) in enumerate(EDGES):
            if src2 == dst:
                adj[node, k2 + 1] = 1
    return adj


_ADJACENCY = _edge_graph_adjacency()


def arch_to_str(arch: Arch) -> str:
    """``('a','b',...)`` -> ``'|a~0|+|b~0|c~1|+|d~0|e~1|f~2|'``."""
    a = arch
    return f"|{a[0]}~0|+|{a[1]}~0|{a[2]}~1|+|{a[3]}~0|{a[4]}~1|{a[5]}~2|"


def str_to_arch(text: str) -> Arch:
    """Parse an NB201 arch string; an ArchError says exactly which part is wrong."""
    if not isinstance(text, str):
        raise ArchError(f"an NB201 arch string must be a string, got {type(text).__name__}")
    s = text.strip()
    if not (s.startswith("|") and s.endswith("|")):
        raise ArchError(
            f"NB201 arch string {shown(text)} must look like "
            "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' (it must start and end with '|')"
        )
    nodes = s.split("+")
    if len(nodes) != 3:
        raise ArchError(
            f"NB201 arch string {shown(text)} has {len(nodes)} node groups separated by '+', expected 3"
        )
    ops: list[str] = []
    for node_idx, group in enumerate(nodes, start=1):
        tokens = [t for t in group.split("|") if t]
        if len(tokens) != node_idx:
            raise ArchError(
                f"NB201 arch string {shown(text)}: node {node_idx} has {len(tokens)} input edge(s), expected {node_idx}"
            )
        for src, token in enumerate(tokens):
            m = _TOKEN.match(token)
            if not m:
                raise ArchError(
                    f"NB201 arch string {shown(text)}: edge {shown(token)} is not of the form 'op~k'"
                )
            op, k = m.group(1), int(m.group(2))
            if op not in OPS:
                raise ArchError(f"NB201 arch string {shown(text)}: unknown op {op!r} (ops: {', '.join(OPS)})")
            if k != src:
                raise ArchError(
                    f"NB201 arch string {shown(text)}: edge {shown(token)} into node {node_idx} must come "
                    f"from node {src}"
                )
            ops.append(op)
    return tuple(ops)


class NasBench201Space(SearchSpace[Arch]):
    """The 15,625 NAS-Bench-201 cells; official index order comes from the benchmark tables."""

    name = "nasbench201"

    @classmethod
    def official_files(cls) -> dict[str, Any]:
        """The official large files its benchmark reads from a data folder (``nasearch data``)."""
        from nasearch.search_spaces.nasbench201.benchmark import OFFICIAL_FILES

        return dict(OFFICIAL_FILES)

    def __init__(
        self, prune_graph: bool = False, data_dir: str | None = None, benchmark_file: str | None = None
    ) -> None:
        """NB201 cells.

        ``prune_graph``: drop ``none`` nodes and nodes cut off from input or output in ``to_graph``.
        ``data_dir``: a data folder that adds or overrides tables (default ``$NASEARCH_DATA``, then the
        embedded tables). ``benchmark_file``: an official
        ``NAS-Bench-201-v1_*.pth`` to answer queries instead of the compact tables.
        """
        self.prune_graph = bool(prune_graph)
        self.data_dir = data_dir
        self.benchmark_file = benchmark_file
        self._benchmark: Any = None

    # --- required ---------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Arch:
        return tuple(OPS[i] for i in rng.integers(0, len(OPS), size=len(EDGES)))

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """One edge's op changed, never to a cell that computes the same function (another
        ``key``: an op on an edge whose output ``none`` edges zero out changes nothing). The draw
        is the same as a plain one-edge change (one edge, one other op); where that keeps the key
        (about 1 draw in 10), the next single-edge change in order that does not is taken, so the
        random stream a search consumes is the same as without the check."""
        edge = int(rng.integers(len(EDGES)))
        pick = int(rng.integers(len(OPS) - 1))
        neighbours = self.neighbours(arch)  # edge by edge, the other ops in OPS order
        drawn = edge * (len(OPS) - 1) + pick
        parent = self.key(arch)
        for i in range(len(neighbours)):
            child = neighbours[(drawn + i) % len(neighbours)]
            if self.key(child) != parent:
                return child
        return neighbours[drawn]  # no single change alters the function (no NB201 cell is like that)

    def to_graph(self, arch: Arch) -> ArchGraph:
        graph = ArchGraph(("input", *arch, "output"), _ADJACENCY)
        if not self.prune_graph:
            return graph
        return cell_graph_without_none(graph)

    def key(self, arch: Arch) -> str:
        """Equal for cells that compute the same function: 6,466 keys over the 15,625 cells.

        This is NAS-Bench-201's own notion of isomorphism (``none`` is zero, ``skip_connect`` is
        the identity, inputs of a node are summed in any order), so de-duplication never spends
        a query on a cell the benchmark regards as a repeat. The stricter graph isomorphism of
        ``to_graph(arch).key`` (pruned) separates 8,765 classes.
        """
        return hashlib.md5(unique_expression(arch).encode("utf-8")).hexdigest()

    def to_str(self, arch: Arch) -> str:
        return arch_to_str(arch)

    def from_str(self, text: str) -> Arch:
        return str_to_arch(text)

    def parse(self, text: str) -> Arch:
        """An arch string or an official index (0..15624)."""
        s = str(text).strip()
        if s.isdigit():
            return self.from_index(int(s))
        return str_to_arch(s)

    # --- optional capabilities ----------------------------------------------------------------
    def neighbours(self, arch: Arch) -> list[Arch]:
        """All 24 cells that differ from ``arch`` in exactly one edge op."""
        out = []
        for edge in range(len(EDGES)):
            for op in OPS:
                if op != arch[edge]:
                    new = list(arch)
                    new[edge] = op
                    out.append(tuple(new))
        return out

    def enumerate(self) -> Iterator[Arch]:
        """All 15,625 cells in official NB201 index order (from the benchmark tables)."""
        return iter(self.benchmark().archs)

    def enumerate_product(self) -> Iterator[Arch]:
        """All 15,625 cells in itertools.product order (no data needed)."""
        return (tuple(p) for p in itertools.product(OPS, repeat=len(EDGES)))

    def categorical_choices(self) -> dict[str, list[str]]:
        """One categorical parameter per edge (what Optuna's samplers drive)."""
        return {f"edge_{src}_{dst}": list(OPS) for src, dst in EDGES}

    def to_categorical(self, arch: Arch) -> dict[str, str]:
        return {f"edge_{src}_{dst}": op for (src, dst), op in zip(EDGES, arch)}

    def from_categorical(self, params: dict[str, str]) -> Arch:
        try:
            arch = tuple(params[f"edge_{src}_{dst}"] for src, dst in EDGES)
        except KeyError as exc:
            raise ArchError(f"NB201 categorical parameters lack {exc.args[0]!r}") from None
        bad = [op for op in arch if op not in OPS]
        if bad:
            raise ArchError(f"unknown NB201 op(s) {bad} (ops: {', '.join(OPS)})")
        return arch

    def benchmark(self) -> Any:
        """The NAS-Bench-201 tables (loaded lazily, table by table)."""
        if self._benchmark is None:
            if self.benchmark_file:
                from nasearch.search_spaces.nasbench201.official import OfficialNasBench201Benchmark

                self._benchmark = OfficialNasBench201Benchmark(self.benchmark_file)
            else:
                from nasearch.search_spaces.nasbench201.benchmark import NasBench201Benchmark

                self._benchmark = NasBench201Benchmark(self.data_dir)
        return self._benchmark

    def index(self, arch: Arch) -> int:
        """The official NB201 index of ``arch``."""
        return self.benchmark().index(arch)

    def from_index(self, index: int) -> Arch:
        """The arch at official NB201 index ``index``."""
        return self.benchmark().arch(index)

    def network(self, arch: Arch, **options: Any) -> Any:
        """A torch module of the NB201 macro skeleton with this cell (real training)."""
        from nasearch.search_spaces.nasbench201.network import build_network

        return build_network(arch, **options)

    def proxy_names(self) -> tuple[str, ...]:
        """The zero-cost proxies of every cell (``zero_cost.PROXIES``: synflow, FLOPs, parameters)."""
        from nasearch.search_spaces.nasbench201.zero_cost import PROXIES

        return PROXIES

    def proxies(self, arch: Arch) -> dict[str, float]:
        """The cell's zero-cost proxies, computed by nasearch for all 15,625 cells and shipped
        (``nasearch.search_spaces.nasbench201.zero_cost``); a data folder may hold its own table."""
        from nasearch.search_spaces.nasbench201.zero_cost import load_table

        return load_table(self.data_dir).proxies(arch)

    def predictor_defaults(self, metric: str) -> PredictorSettings:
        """The settings NB201's selections chose for predictors of an accuracy (``PREDICTOR_DEFAULTS``
        for this space's cells, and ``CHOSEN_SPACE_OPTIONS``); none for other targets (latency: all
        8 nodes, since the ops off the input-output paths still run on the device)."""
        if "accuracy" not in metric:
            return PredictorSettings()
        return PredictorSettings(PREDICTOR_DEFAULTS[self.prune_graph], CHOSEN_SPACE_OPTIONS)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_benchmark"] = None  # workers reload tables themselves
        return state


def unique_expression(arch: Arch) -> str:
    """The cell's output as a canonical expression of its input (identity for equal functions)."""
    nodes = {0: "0"}
    edge = 0
    for target in range(1, 4):
        terms = []
        for source in range(target):
            op = arch[edge]
            edge += 1
            if op == "none" or nodes[source] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(nodes[source])
            else:
                terms.append(f"({nodes[source]})@{op}")
        nodes[target] = "+".join(sorted(terms))
    return nodes[3]


def cell_graph_without_none(graph: ArchGraph) -> ArchGraph:
    """Drop ``none`` op nodes (they pass zeros), then nodes on no input -> output path."""
    keep = [v for v, op in enumerate(graph.ops) if op != "none"]
    return graph.subgraph(keep).prune()
