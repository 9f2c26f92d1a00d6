"""Honest baselines behind the same Predictor interface: MLP, GIN, random forest, params-linear.

- ``MLPPredictor``: an MLP on ``flat_encoding`` (upper-triangular adjacency + one-hot ops),
  trained by the shared loop (same optimiser, schedule, EMA and ranking loss as NN-Former) and,
  like GIN, with NN-Former's default budget and loss (1000 epochs capped at 16,000 steps,
  ``rank_weight=1.0``): at 2000 steps both scored up to 0.1 Kendall tau lower on NB201, which made
  NN-Former's lead look larger than it is, and 1.0 beat 0.2 for both at every size measured.
- ``GINPredictor``: a graph isomorphism network over the cell (messages along both edge
  directions), mean-pooled over nodes, same shared loop.
- ``RandomForestPredictor``: scikit-learn's random forest on the same flat encoding; its
  ``predict_std`` is the spread of the trees.
- ``ParamsLinearPredictor``: the latency baseline, a ridge-regularised linear model on cheap cost
  features. With ``features="attrs"`` it sums the numeric node attributes named in
  ``attr_keys`` (default ``flops`` and ``params``) over the cell; with ``features="op_counts"``
  it uses how many nodes of each op the cell has (a per-op cost model: latency ~ sum of op
  costs); ``"auto"`` (default) takes attrs when every training graph carries them, else counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from nasearch.api import Hardware, Predictor, Targets
from nasearch.api.errors import ConfigError
from nasearch.api.graph import ArchGraph
from nasearch.predictors.encoding import (
    ArraySource,
    EncodedGraphs,
    GraphBatch,
    OpVocab,
    flat_encoding,
    op_counts,
)
from nasearch.predictors.training import (
    ACCURACY_DEFAULTS,
    PredictorError,
    TargetScaler,
    TorchPredictor,
    check_fit_inputs,
)


def _mlp(sizes: Sequence[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class _FlatMixin:
    """Shared by the flat-encoding baselines: vocabulary and width learnt from the training set."""

    vocab: OpVocab | None
    max_nodes: int

    def _learn_encoding(self, graphs: Sequence[ArchGraph]) -> None:
        self.vocab = OpVocab.from_graphs(graphs)
        self.max_nodes = max(g.n_nodes for g in graphs)

    def _flat(self, graphs: Sequence[ArchGraph]) -> np.ndarray:
        assert self.vocab is not None
        return flat_encoding(graphs, self.vocab, self.max_nodes)


class MLPPredictor(_FlatMixin, TorchPredictor):
    """MLP on the flattened adjacency + one-hot ops (NASLib's "MLP" baseline)."""

    display_name = "MLP"
    option_defaults = ACCURACY_DEFAULTS

    def __init__(
        self,
        hidden: Sequence[int] = (256, 256, 256),
        dropout: float = 0.1,
        **options: Any,
    ) -> None:
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ConfigError(f"MLP: hidden must be a non-empty list of positive widths, got {hidden!r}")
        super().__init__(**options)
        self.hidden = tuple(int(h) for h in hidden)
        self.dropout = float(dropout)
        self.vocab = None
        self.max_nodes = 0

    def _prepare(self, graphs: Sequence[ArchGraph], hardware: Hardware) -> None:
        self._learn_encoding(graphs)

    def _build_module(self) -> nn.Module:
        assert self.vocab is not None
        n = self.max_nodes
        width = n * (n - 1) // 2 + n * len(self.vocab)  # flat_encoding's length
        return nn.Sequential(_mlp([width, *self.hidden, 1], self.dropout), nn.Flatten(0))

    def _encode(self, graphs: Sequence[ArchGraph], hardware: Hardware) -> ArraySource:
        return ArraySource(self._flat(graphs))


class GINModule(nn.Module):
    """GIN layers ``h <- MLP((1 + eps) h + sum_{u ~ v} h_u)`` over both edge directions, mean pool."""

    def __init__(self, vocab_size: int, dim: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.embed = nn.Linear(vocab_size, dim)
        self.eps = nn.Parameter(torch.zeros(layers))
        self.mlps = nn.ModuleList(_mlp([dim, dim, dim], 0.0) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(layers))
        self.drop = nn.Dropout(dropout)
        self.head = _mlp([dim, dim, 1], dropout)

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        adj = batch.adjacency + batch.adjacency.transpose(1, 2)
        mask = batch.mask.unsqueeze(-1).float()
        h = self.embed(batch.onehot) * mask
        for k, (mlp, norm) in enumerate(zip(self.mlps, self.norms)):
            h = h + self.drop(torch.relu(norm(mlp((1 + self.eps[k]) * h + adj @ h)))) * mask
        pooled = h.sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)


class GINPredictor(TorchPredictor):
    """Graph isomorphism network baseline over the cell's op nodes."""

    display_name = "GIN"
    option_defaults = ACCURACY_DEFAULTS

    def __init__(
        self,
        dim: int = 64,
        layers: int = 4,
        dropout: float = 0.1,
        **options: Any,
    ) -> None:
        if dim < 1 or layers < 1:
            raise ConfigError(f"GIN: dim and layers must be >= 1, got dim={dim}, layers={layers}")
        super().__init__(**options)
        self.dim, self.layers, self.dropout = int(dim), int(layers), float(dropout)
        self.vocab: OpVocab | None = None

    def _prepare(self, graphs: Sequence[ArchGraph], hardware: Hardware) -> None:
        self.vocab = OpVocab.from_graphs(graphs)

    def _build_module(self) -> nn.Module:
        assert self.vocab is not None
        return GINModule(len(self.vocab), self.dim, self.layers, self.dropout)

    def _encode(self, graphs: Sequence[ArchGraph], hardware: Hardware) -> EncodedGraphs:
        assert self.vocab is not None
        return EncodedGraphs(graphs, self.vocab)


class RandomForestPredictor(_FlatMixin, Predictor):
    """Random forest on the flat adjacency + one-hot encoding; ``predict_std`` = spread of trees."""

    def __init__(
        self,
        n_estimators: int = 300,
        max_features: float | str | None = 0.5,
        min_samples_leaf: int = 1,
        seed: int = 0,
        n_jobs: int = 1,
        log_target: bool = False,
    ) -> None:
        if n_estimators < 1 or min_samples_leaf < 1:
            raise ConfigError("random_forest: n_estimators and min_samples_leaf must be >= 1")
        self.n_estimators, self.max_features = int(n_estimators), max_features
        self.min_samples_leaf, self.seed, self.n_jobs = int(min_samples_leaf), int(seed), int(n_jobs)
        self.log_target = bool(log_target)
        self.vocab = None
        self.max_nodes = 0
        self.model: Any = None
        self.scaler = TargetScaler(self.log_target)

    def fit(
        self, graphs: Sequence[ArchGraph], y: Targets, hardware: Hardware = None
    ) -> RandomForestPredictor:
        """Fit the forest on the flat encoding of ``graphs``."""
        from sklearn.ensemble import RandomForestRegressor

        target = check_fit_inputs(graphs, y, "random_forest")
        graphs = list(graphs)
        self._learn_encoding(graphs)
        self.scaler = TargetScaler(self.log_target).fit(target)
        self.model = RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.seed,
            n_jobs=self.n_jobs,
        ).fit(self._flat(graphs), self.scaler.transform(target))
        return self

    def _tree_predictions(self, graphs: Sequence[ArchGraph]) -> np.ndarray:
        if self.model is None:
            raise PredictorError("random_forest: call fit before predict")
        x = self._flat(list(graphs))
        return np.stack([tree.predict(x) for tree in self.model.estimators_])

    def predict(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Mean of the trees, in target units."""
        if self.model is None:
            raise PredictorError("random_forest: call fit before predict")
        if not len(graphs):
            return np.empty(0)
        return self.scaler.inverse(self.model.predict(self._flat(list(graphs))))

    def predict_std(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Standard deviation over the trees, in target units."""
        trees = self._tree_predictions(graphs)
        return self.scaler.inverse_std(trees.mean(0), trees.std(0))

    def predict_mean_std(
        self, graphs: Sequence[ArchGraph], hardware: Hardware = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``predict`` and ``predict_std`` from one encoding and one pass over the trees (the forest's
        prediction is the mean of its trees)."""
        if not len(graphs):
            return np.empty(0), np.empty(0)
        trees = self._tree_predictions(graphs)
        mean = trees.mean(0)
        return self.scaler.inverse(mean), self.scaler.inverse_std(mean, trees.std(0))


class ParamsLinearPredictor(Predictor):
    """Ridge regression on cheap cost features (summed node attrs, or op counts): see module doc."""

    def __init__(
        self,
        features: Literal["auto", "attrs", "op_counts"] = "auto",
        attr_keys: Sequence[str] = ("flops", "params"),
        alpha: float = 1e-3,
        log_target: bool = False,
        seed: int = 0,
    ) -> None:
        if features not in ("auto", "attrs", "op_counts"):
            raise ConfigError(
                f"params_linear: features must be 'auto', 'attrs' or 'op_counts', got {features!r}"
            )
        if alpha < 0:
            raise ConfigError(f"params_linear: alpha must be >= 0, got {alpha}")
        self.features, self.attr_keys = features, tuple(attr_keys)
        self.alpha, self.log_target, self.seed = float(alpha), bool(log_target), int(seed)
        self.used_features: str | None = None
        self.vocab: OpVocab | None = None
        self.coef: np.ndarray | None = None
        self.intercept = 0.0
        self._x_mean: np.ndarray | None = None
        self._x_std: np.ndarray | None = None
        self.scaler = TargetScaler(self.log_target)

    def _has_attrs(self, graphs: Sequence[ArchGraph]) -> bool:
        return all(
            g.attrs is not None and any(k in a for a in g.attrs for k in self.attr_keys) for g in graphs
        )

    def _features(self, graphs: Sequence[ArchGraph]) -> np.ndarray:
        if self.used_features == "attrs":
            out = np.zeros((len(graphs), len(self.attr_keys)))
            for i, g in enumerate(graphs):
                for a in g.attrs or ():
                    for k, key in enumerate(self.attr_keys):
                        out[i, k] += float(a.get(key, 0.0) or 0.0)
            return out
        assert self.vocab is not None
        return op_counts(graphs, self.vocab)

    def fit(
        self, graphs: Sequence[ArchGraph], y: Targets, hardware: Hardware = None
    ) -> ParamsLinearPredictor:
        """Least squares with a small ridge penalty on standardised features."""
        target = check_fit_inputs(graphs, y, "params_linear")
        graphs = list(graphs)
        if self.features == "attrs" and not self._has_attrs(graphs):
            raise PredictorError(
                f"params_linear: features='attrs' but some training graphs carry none of the node attrs "
                f"{', '.join(self.attr_keys)}; use features='op_counts' or 'auto'"
            )
        self.used_features = (
            "attrs"
            if self.features == "attrs" or (self.features == "auto" and self._has_attrs(graphs))
            else "op_counts"
        )
        self.vocab = OpVocab.from_graphs(graphs)
        x = self._features(graphs)
        self._x_mean, self._x_std = x.mean(0), x.std(0)
        self._x_std[self._x_std == 0] = 1.0
        xs = (x - self._x_mean) / self._x_std
        self.scaler = TargetScaler(self.log_target).fit(target)
        z = self.scaler.transform(target)
        gram = xs.T @ xs + self.alpha * len(z) * np.eye(xs.shape[1])
        self.coef = np.linalg.solve(gram, xs.T @ z)
        self.intercept = float(z.mean())
        return self

    def predict(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Linear prediction, in target units."""
        if self.coef is None:
            raise PredictorError("params_linear: call fit before predict")
        if not len(graphs):
            return np.empty(0)
        xs = (self._features(list(graphs)) - self._x_mean) / self._x_std
        return self.scaler.inverse(xs @ self.coef + self.intercept)
