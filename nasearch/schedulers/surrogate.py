"""Our surrogate-guided scheduler: ASHA whose promotions are ranked by a multi-fidelity predictor
that reads a cell's architecture together with its lower-fidelity result.

Why: 12 epochs rank NAS-Bench-201's cells only roughly (Kendall tau 0.65 against 200 epochs;
the 200-epoch optimum is 17th at 12 epochs), so promoting by the low-fidelity value alone
trains many cells fully that the architecture itself argues against. The predictor is a random
forest on the cell's graph (one-hot operation per node, the adjacency) plus the rung's value,
trained on the cells that have both that rung's and the full fidelity's result; it replaces the
raw value once ``min_points`` such cells exist (before that, this is plain ASHA). The starts
come from the optimizer (which was told each cell's first result): with a predictor-guided
optimizer, a surrogate also picks which cells to start, as in BOHB.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from nasearch.api import AnySpace, ArchGraph
from nasearch.api.errors import ConfigError
from nasearch.api.fidelity import Job
from nasearch.api.space_calls import to_graph
from nasearch.schedulers.asha import ASHA

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestRegressor


#: what the forest learns: the full-fidelity score itself, or its gain over the rung's score (added back
#: when ranking: a forest cannot extrapolate past the scores it was trained on, the gain's offset can)
TARGETS = ("value", "gain")


class GraphFeatures:
    """Fixed-length features of ArchGraphs: one-hot op per node position and the adjacency's entries."""

    def __init__(self) -> None:
        self.ops: dict[str, int] = {}
        self.nodes = 0

    def fit(self, graphs: list[ArchGraph]) -> GraphFeatures:
        for g in graphs:
            for op in g.ops:
                self.ops.setdefault(op, len(self.ops))
            self.nodes = max(self.nodes, len(g.ops))
        return self

    def transform(self, graphs: list[ArchGraph]) -> NDArray[np.float64]:
        n, m = self.nodes, len(self.ops)
        out = np.zeros((len(graphs), n * m + n * n))
        for row, g in enumerate(graphs):
            for i, op in enumerate(g.ops[:n]):
                if op in self.ops:
                    out[row, i * m + self.ops[op]] = 1.0
            adj = np.asarray(g.adjacency, dtype=float)[:n, :n]
            out[row, n * m : n * m + adj.size] = adj.reshape(-1)
        return out


class SurrogateScheduler(ASHA):
    """ASHA with promotions ranked by a multi-fidelity random forest (see the module docstring).

    ``eta``: reduction factor (9: chosen on development seeds against 3 and 27 with NB201's 12/200
    epochs, where a full training costs ~18 low-fidelity ones); ``min_points``: cells with a
    full-fidelity result needed before the model ranks promotions; ``trees``: forest size; ``seed``:
    the forest's seed (the runner's seed); ``target``: ``gain`` (the forest predicts the gain of the
    full-fidelity score over the rung's; chosen on development seeds, ``benchmarks/tune_multifidelity``)
    or ``value`` (the full-fidelity score itself); ``tell_full``: also tell the optimizer each
    promoted cell's full-fidelity result (``nasearch.api.fidelity.Retells``); ``shift_full``: tell it
    on the first rung's scale (``told_full``).
    ``space`` is supplied by the runner (the model reads ``space.to_graph``)."""

    name = "surrogate"

    def __init__(
        self,
        space: AnySpace | None = None,
        eta: float = 9.0,
        min_points: int = 8,
        trees: int = 50,
        seed: int = 0,
        target: str = "gain",
        tell_full: bool = False,
        shift_full: bool = False,
    ) -> None:
        super().__init__(eta)
        if target not in TARGETS:
            raise ConfigError(
                f"scheduler 'surrogate': target must be one of {', '.join(TARGETS)}, got {target!r}"
            )
        if not isinstance(tell_full, bool):
            raise ConfigError(f"scheduler 'surrogate': tell_full must be true or false, got {tell_full!r}")
        if not isinstance(shift_full, bool):
            raise ConfigError(f"scheduler 'surrogate': shift_full must be true or false, got {shift_full!r}")
        self.target = target
        self.tell_full = tell_full
        self.shift_full = shift_full
        if isinstance(min_points, bool) or not isinstance(min_points, int) or min_points < 2:
            raise ConfigError(
                f"scheduler 'surrogate': min_points must be an integer >= 2, got {min_points!r}"
            )
        if isinstance(trees, bool) or not isinstance(trees, int) or trees < 1:
            raise ConfigError(f"scheduler 'surrogate': trees must be an integer >= 1, got {trees!r}")
        self.space = space
        self.min_points = min_points
        self.trees = trees
        self.seed = seed
        self._features: dict[str, NDArray[np.float64]] = {}
        self._models: dict[int, tuple[int, RandomForestRegressor]] = {}
        self.fits = 0

    def _graph_row(self, key: str, arch: Hashable, encoder: GraphFeatures) -> NDArray[np.float64]:
        if key not in self._features:
            self._features[key] = encoder.transform([to_graph(self.space, arch)])[0]
        return self._features[key]

    def _encoder(self) -> GraphFeatures:
        if not hasattr(self, "_enc"):
            self._enc = GraphFeatures()
            if self.space is not None:
                rng = np.random.default_rng(0)
                self._enc.fit([to_graph(self.space, self.space.sample(rng)) for _ in range(64)])
        return self._enc

    def _model(self, rung: int) -> RandomForestRegressor | None:
        """The forest predicting the full-fidelity score from (graph, rung score); None until enough data."""
        top = self.done[self.top_rung]
        train = [
            k for k in self.done[rung] if k in top and np.isfinite(top[k]) and np.isfinite(self.done[rung][k])
        ]
        if self.space is None or len(train) < self.min_points:
            return None
        cached = self._models.get(rung)
        if cached is not None and cached[0] == len(train):
            return cached[1]
        from sklearn.ensemble import RandomForestRegressor

        enc = self._encoder()
        x = np.array([np.append(self._graph_row(k, self.archs[k], enc), self.done[rung][k]) for k in train])
        y = np.array([top[k] - (self.done[rung][k] if self.target == "gain" else 0.0) for k in train])
        model = RandomForestRegressor(n_estimators=self.trees, min_samples_leaf=2, random_state=self.seed)
        model.fit(x, y)
        self.fits += 1
        self._models[rung] = (len(train), model)
        return model

    def predicted(self, rung: int) -> dict[str, float] | None:
        """The forest's full-fidelity score of each cell finished at ``rung`` (failures left out);
        None until it has ``min_points`` cells to learn from."""
        done = self.done[rung]
        model = self._model(rung)
        if model is None:
            return None
        enc = self._encoder()
        keys = [k for k in done if np.isfinite(done[k])]
        if not keys:
            return {}
        x = np.array([np.append(self._graph_row(k, self.archs[k], enc), done[k]) for k in keys])
        est = model.predict(x) + (x[:, -1] if self.target == "gain" else 0.0)
        return {k: float(v) for k, v in zip(keys, est)}

    def ranked(self, rung: int) -> list[str]:
        pred = self.predicted(rung)
        if pred is None:
            return super().ranked(rung)
        return sorted(self.done[rung], key=lambda k: (-pred.get(k, -np.inf), k))

    def told_full(self, job: Job, value: float) -> dict[str, tuple[Hashable, float]]:
        """With ``shift_full``: every promoted cell's full-fidelity value less the median gain over its
        first rung (of the promoted cells so far), so the optimizer compares promoted and unpromoted
        cells on the first rung's scale (a mediocre cell trained fully does not outrank every 12-epoch
        result); the gain moves with each promotion, so all promoted cells are re-told."""
        if not self.shift_full:
            return super().told_full(job, value)
        top, low = self.done[self.top_rung], self.done[0]
        both = [k for k in top if k in low and np.isfinite(top[k]) and np.isfinite(low[k])]
        if not both:
            return super().told_full(job, value)
        shift = float(np.median([top[k] - low[k] for k in both]))
        sign = 1.0 if self.maximize else -1.0
        return {k: (self.archs[k], sign * (top[k] - shift)) for k in both}

    def state(self) -> dict[str, object]:
        return {**super().state(), "model_fits": self.fits}
