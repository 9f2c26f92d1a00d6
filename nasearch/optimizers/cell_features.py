"""Free features of a cell for ``front_ehvi``'s accuracy model: its graph, the space's zero-cost proxies
and the objectives the evaluator knows (a latency model's prediction).

Why: with 10-100 told cells a forest on the graph alone ranks accuracy poorly, while FLOPs, parameters,
synflow (``nasearch.api.ZeroCostProxies``) and the looked-up latency cost nothing for any cell and track
accuracy; a forest on all of them screens candidates with what is known before the first query.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasearch.api import AnySpace, ArchGraph, ZeroCostProxies
from nasearch.api.errors import ConfigError
from nasearch.api.space_calls import to_graph

#: what ``features`` may name: the graph (one-hot op per node, adjacency, op counts, depth), the space's
#: zero-cost proxies (needs ``ZeroCostProxies``), the known objectives' values
FEATURES = ("graph", "proxies", "known")


def check_features(features: Sequence[str], space: AnySpace) -> tuple[str, ...]:
    """``features`` validated against ``FEATURES`` and the space's capabilities (one ConfigError line)."""
    names = tuple(str(f) for f in features)
    unknown = [f for f in names if f not in FEATURES]
    if unknown or not names or len(set(names)) != len(names):
        raise ConfigError(
            f"front_ehvi: features must be distinct names from {', '.join(FEATURES)}, got {list(features)!r}"
        )
    if "proxies" in names and not isinstance(space, ZeroCostProxies):
        raise ConfigError(
            f"front_ehvi: features 'proxies' needs a space with zero-cost proxies; {type(space).__name__} "
            "offers none"
        )
    return names


def depth(graph: ArchGraph) -> int:
    """The longest path (in edges) from the input node to the output node; 0 when they are not joined."""
    n = len(graph.ops)
    adj = np.asarray(graph.adjacency)
    longest = np.full(n, -1)
    longest[0] = 0
    for j in range(1, n):  # nodes are in topological order
        parents = np.flatnonzero(adj[:j, j])
        reach = [longest[i] for i in parents if longest[i] >= 0]
        if reach:
            longest[j] = max(reach) + 1
    return max(int(longest[-1]), 0)


class CellFeatures:
    """Fixed-length rows for cells: the chosen ``features``, cached by the cell (``space.to_str``)."""

    def __init__(
        self,
        space: AnySpace,
        features: Sequence[str],
        known: Callable[[Sequence[Hashable]], dict[int, np.ndarray]],
    ) -> None:
        self.space = space
        self.features = check_features(features, space)
        self.known = known
        self.ops: dict[str, int] = {}
        self.nodes = 0
        self._cache: dict[str, NDArray[np.float64]] = {}

    def vocabulary(self) -> dict[str, object]:
        """The graph columns' op order and node count (JSON), which a resumed search must reuse: a forest on
        the columns in another order draws other splits."""
        return {"ops": list(self.ops), "nodes": self.nodes}

    def set_vocabulary(self, vocabulary: dict[str, Any]) -> None:
        """Fix the graph columns to ``vocabulary()``'s output (before any row is computed)."""
        self.ops = {str(op): i for i, op in enumerate(vocabulary.get("ops", []))}
        self.nodes = int(vocabulary.get("nodes", 0))

    def _graph_rows(self, graphs: list[ArchGraph]) -> NDArray[np.float64]:
        n, m = self.nodes, len(self.ops)
        out = np.zeros((len(graphs), n * m + n * n + m + 2))
        for row, g in enumerate(graphs):
            for i, op in enumerate(g.ops[:n]):
                if op in self.ops:
                    out[row, i * m + self.ops[op]] = 1.0
                    out[row, n * m + n * n + self.ops[op]] += 1.0  # op counts
            adj = np.asarray(g.adjacency, dtype=float)[:n, :n]
            out[row, n * m : n * m + adj.size] = adj.reshape(-1)
            out[row, -2] = len(g.ops)
            out[row, -1] = depth(g)
        return out

    def rows(self, cells: Sequence[Hashable]) -> NDArray[np.float64]:
        """One row per cell (computed once per cell; the graph vocabulary grows with the first calls, so
        a caller passes every cell it will compare in its first call: the pool or the told + candidates)."""
        # the cell itself, not its isomorphism class: isomorphs encode differently, and a row that depended on
        # which of them came first would differ in a resumed search
        keys = [self.space.to_str(c) for c in cells]
        todo = [i for i, k in enumerate(keys) if k not in self._cache]
        if todo:
            new = [cells[i] for i in todo]
            parts: list[NDArray[np.float64]] = []
            if "graph" in self.features:
                graphs = [to_graph(self.space, c) for c in new]
                if not self.ops:  # the vocabulary and width are fixed by the first call (or a resumed state)
                    for g in graphs:
                        for op in g.ops:
                            self.ops.setdefault(op, len(self.ops))
                        self.nodes = max(self.nodes, len(g.ops))
                parts.append(self._graph_rows(graphs))
            if "proxies" in self.features:
                assert isinstance(self.space, ZeroCostProxies)  # checked by check_features
                names = list(self.space.proxy_names())
                values = [self.space.proxies(c) for c in new]
                raw = np.asarray([[float(v[p]) for p in names] for v in values], dtype=float)
                # signed log: synflow spans hundreds of decades (a float32 forest cannot hold it)
                parts.append(np.sign(raw) * np.log1p(np.abs(raw)))
            if "known" in self.features:
                known = self.known(new)
                parts.append(
                    np.stack([known[j] for j in sorted(known)], axis=1) if known else np.zeros((len(new), 0))
                )
            block = np.concatenate(parts, axis=1)
            for i, row in zip(todo, block):
                self._cache[keys[i]] = row
        return np.stack([self._cache[k] for k in keys])


class FeatureForest:
    """A random forest on ``CellFeatures`` rows: mean and spread (over its trees) of one objective."""

    def __init__(self, seed: int, n_estimators: int = 100) -> None:
        self.seed, self.n_estimators = int(seed), int(n_estimators)
        self.model: object = None
        self.fits = 0

    def fit(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> FeatureForest:
        from sklearn.ensemble import RandomForestRegressor

        self.model = RandomForestRegressor(
            n_estimators=self.n_estimators, max_features=0.5, random_state=self.seed + self.fits, n_jobs=1
        ).fit(x, y)
        self.fits += 1
        return self

    def predict_mean_std(self, x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        from sklearn.ensemble import RandomForestRegressor

        assert isinstance(self.model, RandomForestRegressor)  # fit first
        trees = np.stack([tree.predict(x) for tree in self.model.estimators_])
        return np.asarray(trees.mean(0), dtype=float), np.asarray(trees.std(0), dtype=float)
