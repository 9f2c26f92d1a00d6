"""The NAS-Bench-101 cell space: 423,624 unique cells of at most 7 vertices and 9 edges.

An architecture is a :class:`~nasearch.search_spaces.nasbench101.spec.Cell` (pruned matrix + ops, frozen
and hashable). ``key`` is the official module hash, so isomorphic cells share it and it names
the cell's record in the benchmark. ``to_str`` is the compact JSON spec; ``parse`` (the CLI) also
takes a module hash or a row number.

``sample`` draws uniformly over the unique cells (``sampling="uniform"``, needs the index, built
once and cached) or as the NAS-Bench-101 paper's random search does (``sampling="nasbench"``:
random 7x7 upper-triangular matrix and ops until valid, which favours some cells). ``mutate`` is
the paper's evolution mutation: on the 7-vertex form of the cell, each possible edge flips with
probability 1/7 and each interior op is resampled with probability 1/5, until the result is a
valid, different cell. ``neighbours`` lists every valid cell one step away: one op change, one
edge flip, or one new vertex wired in by an in- and an out-edge.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from nasearch.api import PredictorSettings, SearchSpace
from nasearch.api.errors import ArchError
from nasearch.api.graph import ArchGraph
from nasearch.search_spaces.nasbench101.spec import (
    INPUT,
    MAX_EDGES,
    MAX_VERTICES,
    NUM_CELLS,
    OPS,
    OUTPUT,
    Cell,
    cell_from_json,
    cell_to_json,
    make_cell,
    module_hash,
    quick_cell,
)

_HASH = re.compile(r"^[0-9a-f]{32}$")
#: the zero-cost proxies ``proxies`` gives for every cell (exact counts, see ``network.py``)
PROXIES: tuple[str, ...] = ("flops", "params")
_PAIRS = tuple((i, j) for j in range(MAX_VERTICES) for i in range(j))
SAMPLING = ("uniform", "nasbench")

#: NN-Former's step budget on NB101, chosen on validation cells at 4236 training cells (BENCHMARKS.md
#: ``select_defaults:nnformer_nb101_steps``: 16,000 / 32,000 / 64,000 steps, validation tau 0.858 / 0.868 /
#: 0.869). The 1000 epochs of batches grouped by cell size end at 7,000 steps at 172 cells (7 batches an
#: epoch: the same fit under any budget), at 17,000 at 424 (17 batches: 16,000 cut them to 942 epochs) and
#: at 135,000 at 4236 (135 batches: 119 epochs under 16,000, 475 under 64,000)
NNFORMER_MAX_STEPS = 64000
#: the weight of the pairwise-difference loss on NB101, whose accuracies spread less than NB201's (std
#: 0.05-0.06 over the training sets): NN-Former's chosen on validation cells
#: (``select_defaults:nnformer_nb101``); GIN and MLP share it (their ``*_rank10`` rows, BENCHMARKS.md)
RANK_WEIGHT = 10.0
#: the predictor settings of NB101 accuracy targets: what ``nasearch compare`` fits where a config
#: names no option (the record of the choice)
PREDICTOR_DEFAULTS: dict[str, dict[str, object]] = {
    "nnformer": {"max_steps": NNFORMER_MAX_STEPS, "rank_weight": RANK_WEIGHT},
    "gin": {"rank_weight": RANK_WEIGHT},
    "mlp": {"rank_weight": RANK_WEIGHT},
}


def _try_cell(matrix: list[list[int]], ops: list[str]) -> Cell | None:
    """The pruned cell of a well-formed spec built here, or None when it is not a valid NB101 cell."""
    return quick_cell(matrix, ops)


class NasBench101Space(SearchSpace[Cell]):
    """The NAS-Bench-101 space; the benchmark and the row index load lazily."""

    name = "nasbench101"

    @classmethod
    def official_files(cls) -> dict[str, Any]:
        """The official large files its benchmark reads from a data folder (``nasearch data``)."""
        from nasearch.search_spaces.nasbench101.benchmark import OFFICIAL_FILES

        return dict(OFFICIAL_FILES)

    def __init__(
        self, data_dir: str | None = None, sampling: str = "uniform", official_file: str | None = None
    ) -> None:
        """``sampling``: "uniform" over unique cells or "nasbench" (the paper's random spec)."""
        if sampling not in SAMPLING:
            raise ArchError(f"NB101 sampling must be one of {', '.join(SAMPLING)}, got {sampling!r}")
        self.data_dir = data_dir
        self.sampling = sampling
        self.official_file = official_file
        self._benchmark: Any = None
        self._index: Any = None
        self._proxies: Any = None

    # --- required ---------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Cell:
        if self.sampling == "uniform":
            return self.cell_index().cell(int(rng.integers(NUM_CELLS)))
        while True:
            bits = rng.integers(0, 2, size=len(_PAIRS))
            matrix = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
            for (i, j), b in zip(_PAIRS, bits.tolist()):
                matrix[i][j] = b
            interior = [OPS[k] for k in rng.integers(0, len(OPS), size=MAX_VERTICES - 2).tolist()]
            cell = _try_cell(matrix, [INPUT, *interior, OUTPUT])
            if cell is not None:
                return cell

    def mutate(self, arch: Cell, rng: np.random.Generator) -> Cell:
        """The paper's evolution mutation (edge flips p=1/7, op changes p=1/5) until valid and new."""
        own = self.key(arch)
        matrix, ops = self._padded(arch, rng)
        for _ in range(1000):
            new_m = [row[:] for row in matrix]
            new_ops = ops[:]
            flips = rng.random(len(_PAIRS)) < 1.0 / MAX_VERTICES
            for (i, j), flip in zip(_PAIRS, flips.tolist()):
                if flip:
                    new_m[i][j] = 1 - new_m[i][j]
            change = rng.random(MAX_VERTICES - 2) < 1.0 / (MAX_VERTICES - 2)
            for t in np.flatnonzero(change).tolist():
                choices = [op for op in OPS if op != new_ops[t + 1]]
                new_ops[t + 1] = choices[int(rng.integers(len(choices)))]
            cell = _try_cell(new_m, new_ops)
            if cell is not None and self.key(cell) != own:
                return cell
        options = self.neighbours(arch)  # pragma: no cover - 1000 misses in a row is vanishingly rare
        return options[int(rng.integers(len(options)))]

    @staticmethod
    def _padded(arch: Cell, rng: np.random.Generator) -> tuple[list[list[int]], list[str]]:
        """The cell in 7-vertex form: dangling vertices with random ops at random interior positions."""
        n = arch.n_vertices
        interior_slots = sorted(rng.choice(MAX_VERTICES - 2, size=n - 2, replace=False).tolist())
        position = [0] + [s + 1 for s in interior_slots] + [MAX_VERTICES - 1]
        matrix = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
        for i in range(n):
            for j in range(i + 1, n):
                if arch.matrix[i][j]:
                    matrix[position[i]][position[j]] = 1
        ops = [OPS[k] for k in rng.integers(0, len(OPS), size=MAX_VERTICES).tolist()]
        ops[0], ops[-1] = INPUT, OUTPUT
        for i in range(1, n - 1):
            ops[position[i]] = arch.ops[i]
        return matrix, ops

    def to_graph(self, arch: Cell) -> ArchGraph:
        return ArchGraph(arch.ops, arch.matrix)

    def key(self, arch: Cell) -> str:
        """The official NAS-Bench-101 module hash (equal for isomorphic cells).

        Read from the index when it is loaded or cached (a table lookup, no hashing); otherwise
        computed by ``spec.module_hash``, which gives the same string. Never builds the index.
        """
        if self._index is None:
            from nasearch.search_spaces.nasbench101.index import cached_index

            self._index = cached_index()
            if self._index is None:
                return module_hash(arch)
        row = self._index.row_of_cell(arch)
        return self._index.hash(row) if row >= 0 else module_hash(arch)

    def to_str(self, arch: Cell) -> str:
        return cell_to_json(arch)

    def from_str(self, text: str) -> Cell:
        return cell_from_json(text)

    def parse(self, text: str) -> Cell:
        """A JSON spec ``{"matrix": [[...]], "ops": [...]}`` (pruned, then checked), a hash or a row."""
        s = str(text).strip()
        if _HASH.match(s.lower()):
            row = self.cell_index().row(s.lower())
            if row < 0:
                raise ArchError(f"no NB101 cell has the module hash {s!r}")
            return self.cell_index().cell(row)
        if s.isdigit():
            return self.from_index(int(s))
        if not s.startswith("{"):
            raise ArchError(
                f"cannot read {s[:60]!r} as an NB101 cell: give a JSON spec "
                '{"matrix": [[...]], "ops": [...]}, a 32-hex module hash or a row number'
            )
        return cell_from_json(s)

    # --- optional capabilities ------------------------------------------------------------------------
    def neighbours(self, arch: Cell) -> list[Cell]:
        """Every valid cell one op change, one edge flip or one wired-in new vertex away (unique hashes)."""
        n, m, ops = arch.n_vertices, arch.matrix, list(arch.ops)
        seen = {self.key(arch)}
        out: list[Cell] = []

        def add(matrix: list[list[int]], new_ops: list[str]) -> None:
            cell = _try_cell(matrix, new_ops)
            if cell is not None:
                h = self.key(cell)
                if h not in seen:
                    seen.add(h)
                    out.append(cell)

        rows = [list(r) for r in m]
        for t in range(1, n - 1):
            for op in OPS:
                if op != ops[t]:
                    add(rows, ops[:t] + [op] + ops[t + 1 :])
        for i in range(n):
            for j in range(i + 1, n):
                flipped = [r[:] for r in rows]
                flipped[i][j] = 1 - flipped[i][j]
                add(flipped, ops)
        if n < MAX_VERTICES and arch.n_edges + 2 <= MAX_EDGES:
            for p in range(1, n):  # the new vertex goes before old vertex p
                grown = [r[:p] + [0] + r[p:] for r in rows]
                grown.insert(p, [0] * (n + 1))
                for src in range(p):
                    for dst in range(p + 1, n + 1):
                        wired = [r[:] for r in grown]
                        wired[src][p] = wired[p][dst] = 1
                        for op in OPS:
                            add(wired, ops[:p] + [op] + ops[p:])
        return out

    def enumerate(self) -> Iterator[Cell]:
        """All 423,624 cells in row (sorted module hash) order."""
        index = self.cell_index()
        return (index.cell(i) for i in range(len(index)))

    def categorical_choices(self) -> dict[str, list[Any]]:
        """21 edge switches and 5 op choices of the 7-vertex form (what Optuna's samplers drive)."""
        choices: dict[str, list[Any]] = {f"edge_{i}_{j}": [0, 1] for i, j in _PAIRS}
        choices.update({f"op_{t}": list(OPS) for t in range(1, MAX_VERTICES - 1)})
        return choices

    def to_categorical(self, arch: Cell) -> dict[str, Any]:
        n = arch.n_vertices
        position = list(range(n - 1)) + [MAX_VERTICES - 1]
        params: dict[str, Any] = {f"edge_{i}_{j}": 0 for i, j in _PAIRS}
        for i in range(n):
            for j in range(i + 1, n):
                params[f"edge_{position[i]}_{position[j]}"] = arch.matrix[i][j]
        for t in range(1, MAX_VERTICES - 1):
            params[f"op_{t}"] = arch.ops[t] if t < n - 1 else OPS[0]
        return params

    def from_categorical(self, params: dict[str, Any]) -> Cell:
        """The cell of the 7-vertex form; an ArchError when it is not a valid NB101 cell."""
        try:
            matrix = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
            for i, j in _PAIRS:
                matrix[i][j] = int(params[f"edge_{i}_{j}"])
            ops = [INPUT, *(params[f"op_{t}"] for t in range(1, MAX_VERTICES - 1)), OUTPUT]
        except KeyError as exc:
            raise ArchError(f"NB101 categorical parameters lack {exc.args[0]!r}") from None
        return make_cell(matrix, ops)

    def cell_index(self) -> Any:
        """The hash -> row index (shared with the benchmark)."""
        if self._index is None:
            if self._benchmark is not None:
                self._index = self._benchmark.index
            else:
                from nasearch.search_spaces.nasbench101.index import load_index

                self._index = load_index()
        return self._index

    def benchmark(self) -> Any:
        """The NAS-Bench-101 benchmark (the official file when a data folder holds it, else the compact table)."""
        if self._benchmark is None:
            from nasearch.search_spaces.nasbench101.benchmark import NasBench101Benchmark

            self._benchmark = NasBench101Benchmark(self.data_dir, self.official_file, index=self._index)
        return self._benchmark

    def index(self, arch: Cell) -> int:
        """The row of ``arch`` (its rank in sorted module-hash order)."""
        row = self.cell_index().row_of_cell(arch)
        if row < 0:
            raise ArchError(f"{cell_to_json(arch)} is not an NB101 cell")
        return int(row)

    def from_index(self, index: int) -> Cell:
        """The stored cell of row ``index``."""
        if not 0 <= index < NUM_CELLS:
            raise ArchError(f"NB101 row {index} is out of range 0..{NUM_CELLS - 1}")
        return self.cell_index().cell(index)

    def network(self, arch: Cell, **options: Any) -> Any:
        """The NB101 CIFAR-10 network of this cell as a torch module (real training)."""
        from nasearch.search_spaces.nasbench101.network import build_network

        return build_network(arch, **options)

    def proxy_names(self) -> tuple[str, ...]:
        """The zero-cost proxies of every cell (``PROXIES``): FLOPs and parameters of its CIFAR-10 network."""
        return PROXIES

    def proxies(self, arch: Cell) -> dict[str, float]:
        """The cell's zero-cost proxies, counted exactly from the cell without building its network
        (``network.count_flops``, ``network.count_params``: MFLOPs per 32x32 image, millions of
        parameters, the units of NB201's proxies); no data, no training. Read from the table of every
        cell (``proxy_cache``: counted once, under 2 minutes on one core, then cached on disk). Synflow is
        not among them: on one CPU core it costs seconds a cell (``docs/predictors.md``), days for all 423,624."""
        if self._proxies is None:  # read once per instance: callers ask for every cell, one proxy at a time
            from nasearch.search_spaces.nasbench101.proxy_cache import load_proxies

            self._proxies = load_proxies()
        row = self.cell_index().row_of_cell(arch)
        if row < 0:
            raise ArchError(f"not an NB101 cell (no row holds it): {cell_to_json(arch)}")
        return self._proxies.of_row(row)

    def predictor_defaults(self, metric: str) -> PredictorSettings:
        """``PREDICTOR_DEFAULTS`` for predictors of an accuracy; none for other targets."""
        return PredictorSettings(PREDICTOR_DEFAULTS if "accuracy" in metric else {})

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_benchmark"] = None  # workers reload tables themselves
        state["_index"] = None
        state["_proxies"] = None
        return state
