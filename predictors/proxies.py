"""Zero-cost proxies as predictor inputs: fed to the network, blended with a ridge, or a ridge alone.

A space that offers ``enumerate`` and the ``ZeroCostProxies`` capability gives every cell's proxies
(NB201: synflow, FLOPs, parameters; no label, no training). Each proxy becomes a feature the same way
(``log_standardised``: ``log``, standardised over all the space's cells, plus a 0/1 column where it is
zero). Three ways to use them:

- the ``proxy_input`` option of NN-Former: the features reach the network through a linear map into the
  CLS token that starts at zero (``WithProxies`` carries them beside each batch). Its default proxy,
  synflow, was chosen on validation cells (section ``predictors:extra_info_input_select``). With
  ``pretrain`` too, pre-training runs without the features (their rank is its target) and the fine-tune
  feeds them;
- the ``proxy_blend`` option of the neural predictors (``nnformer``, ``gin``, ``mlp``): after its own
  fit, the predictor fits a ridge on the same labelled cells and predicts
  ``(1 - weight) * own + weight * ridge`` on the standardised target scale. On NB201 every blend of its
  grid ranked worse on validation cells than the network alone (``predictors:extra_info_proxies_select``);
- the ``proxy_ridge`` predictor: that ridge alone (plus, with ``encoding: true``, the cell's flat
  encoding), the cheap baseline that uses the same information (it fits in milliseconds).

The keys:

- ``space`` (required): the registry name of the space whose proxies are read;
- ``space_options``: its options: use those the predictor's cells come from (``prune_graph``), since
  a cell is found by its graph. Cells whose graphs are equal (a pruned graph can stand for several
  cells) get the mean of their features;
- ``proxies``: which proxies (default: synflow for ``proxy_input``, every one the space offers otherwise);
- ``alpha`` (ridge strength on the standardised features), ``encoding`` (add the flat encoding):
  ``proxy_blend`` and ``proxy_ridge``;
- ``weight`` (``proxy_blend`` only): the ridge's share of the blend, in (0, 1].

A cell the space does not hold is one ``ConfigError`` naming it; a space without proxies is one
``ConfigError`` naming the capability.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from nasearch.api import Enumerable, Hardware, Predictor, Targets, ZeroCostProxies
from nasearch.api.errors import ConfigError, suggest
from nasearch.api.graph import ArchGraph
from nasearch.api.space_calls import to_graph
from nasearch.predictors.encoding import OpVocab, flat_encoding
from nasearch.predictors.space_option import check_space_option

#: the defaults of ``proxy_blend``: the best blend of its grid on validation cells (section
#: ``predictors:extra_info_proxies_select``). Every blend there ranked worse than the network alone
#: (0.7975 against 0.8174), so the track's choice is no blend; these defaults are the least bad one.
DEFAULT_BLEND: Mapping[str, Any] = {"weight": 0.15, "alpha": 1.0, "encoding": False}
#: the default proxies of ``proxy_input``: the choice on validation cells (section
#: ``predictors:extra_info_input_select``: synflow alone beat all three proxies and pre-training)
DEFAULT_INPUT_PROXIES: tuple[str, ...] = ("synflow",)
#: the defaults of ``proxy_ridge``: the best ridge alone (weight 1) of the same grid
DEFAULT_RIDGE: Mapping[str, Any] = {"alpha": 1.0, "encoding": True}
RIDGE_KEYS = ("space", "space_options", "proxies", "alpha", "encoding")
BLEND_KEYS = (*RIDGE_KEYS, "weight")
INPUT_KEYS = ("space", "space_options", "proxies")


@dataclasses.dataclass(frozen=True)
class ProxySpec:
    """Which proxies of which space, and the ridge (and blend) settings; ``parse`` checks them."""

    space: str
    space_options: tuple[tuple[str, Any], ...] = ()
    #: empty: every proxy the space offers
    proxies: tuple[str, ...] = ()
    alpha: float = DEFAULT_BLEND["alpha"]
    encoding: bool = DEFAULT_BLEND["encoding"]
    weight: float = DEFAULT_BLEND["weight"]

    @classmethod
    def parse(cls, value: Mapping[str, Any], owner: str, keys: Sequence[str] = BLEND_KEYS) -> ProxySpec:
        """The spec of a mapping such as ``{space: nasbench201, weight: 0.3}``; a ConfigError names a
        wrong key or value."""
        what = "proxy_blend" if "weight" in keys else "proxy_ridge" if "alpha" in keys else "proxy_input"
        check_space_option(value, owner, what, keys)
        proxies = value.get("proxies") or (DEFAULT_INPUT_PROXIES if what == "proxy_input" else ())
        if isinstance(proxies, str) or not all(isinstance(p, str) for p in proxies):
            raise ConfigError(f"{owner}: {what}.proxies must be a list of proxy names, got {proxies!r}")
        options = value.get("space_options") or {}
        if not isinstance(options, Mapping):
            raise ConfigError(f"{owner}: {what}.space_options must be a mapping, got {options!r}")
        defaults = DEFAULT_BLEND if what == "proxy_blend" else {**DEFAULT_BLEND, **DEFAULT_RIDGE}
        encoding = value.get("encoding", defaults["encoding"])
        if not isinstance(encoding, bool):
            raise ConfigError(f"{owner}: {what}.encoding must be true or false, got {encoding!r}")
        try:
            alpha = float(value.get("alpha", defaults["alpha"]))
            weight = float(value.get("weight", defaults["weight"]))
        except (TypeError, ValueError):
            raise ConfigError(f"{owner}: {what}.alpha and weight must be numbers") from None
        if not alpha > 0:
            raise ConfigError(f"{owner}: {what}.alpha must be > 0, got {alpha}")
        if not 0 < weight <= 1:
            raise ConfigError(f"{owner}: {what}.weight must be in (0, 1], got {weight}")
        return cls(
            space=value["space"],
            space_options=tuple(sorted((str(k), v) for k, v in options.items())),
            proxies=tuple(proxies),
            alpha=alpha,
            encoding=encoding,
            weight=weight,
        )


@dataclasses.dataclass(frozen=True)
class ProxyTable:
    """Every cell of a space by its graph: its transformed proxies (and the encoding's vocabulary)."""

    names: tuple[str, ...]
    rows: Mapping[ArchGraph, np.ndarray]
    vocab: OpVocab
    max_nodes: int

    def features(self, graphs: Sequence[ArchGraph], encoding: bool, owner: str) -> np.ndarray:
        """(M, D): the cells' proxies, then (``encoding``) their flat encoding."""
        out = np.empty((len(graphs), len(next(iter(self.rows.values())))))
        for i, graph in enumerate(graphs):
            row = self.rows.get(graph)
            if row is None:
                raise ConfigError(
                    f"{owner}: the cell {graph!r} is not a cell of the proxies' space (give the space the "
                    "options the cells come from, e.g. space_options: {prune_graph: true})"
                )
            out[i] = row
        if not encoding:
            return out
        return np.hstack([out, flat_encoding(graphs, self.vocab, self.max_nodes).astype(np.float64)])


def log_standardised(values: np.ndarray) -> np.ndarray:
    """(M, 1) or (M, 2) features of one proxy over all cells: its ``log`` where positive (non-positive
    values take the smallest log), standardised to mean 0 and std 1 (zeros for a constant column),
    then, where some values are not positive, a 0/1 column marking them. Proxies span many orders of
    magnitude, and a zero is a different kind of cell (NB201: synflow is 0 exactly when no weighted
    path joins input and output, the cells that stay at chance accuracy)."""
    v = np.asarray(values, dtype=np.float64)
    positive = v > 0
    logs = np.zeros(v.shape)
    if positive.any():
        logs[positive] = np.log(v[positive])
        logs[~positive] = logs[positive].min()
    std = float(logs.std())
    column = (logs - logs.mean()) / std if std > 0 else np.zeros_like(logs)
    if positive.all() or not positive.any():
        return column[:, None]
    return np.column_stack([column, (~positive).astype(np.float64)])


@lru_cache(maxsize=4)
def proxy_table(
    space_name: str, space_options: tuple[tuple[str, Any], ...], proxies: tuple[str, ...]
) -> ProxyTable:
    """The proxies of every cell of ``space_name`` (built once per process)."""
    from nasearch.config.options import call_with_options
    from nasearch.config.registry import SEARCH_SPACES

    space = call_with_options(SEARCH_SPACES.get(space_name), dict(space_options), f"space {space_name!r}")
    if not isinstance(space, ZeroCostProxies) or not isinstance(space, Enumerable):
        raise ConfigError(
            f"space {space_name!r} offers no zero-cost proxies of every cell "
            "(it needs the enumerate and proxies capabilities: nasearch.api.ZeroCostProxies)"
        )
    known = list(space.proxy_names())
    names = tuple(proxies) or tuple(known)
    bad = [p for p in names if p not in known]
    if bad:
        raise ConfigError(
            f"space {space_name!r} has no proxy {bad[0]!r}{suggest(bad[0], known)} (proxies: {', '.join(known)})"
        )
    archs = list(space.enumerate())
    graphs = [to_graph(space, a) for a in archs]
    raw = np.array([[space.proxies(a)[p] for p in names] for a in archs], dtype=np.float64)
    columns = np.hstack([log_standardised(raw[:, j]) for j in range(len(names))])
    sums: dict[ArchGraph, np.ndarray] = {}
    counts: dict[ArchGraph, int] = {}
    for graph, row in zip(graphs, columns):
        if graph in sums:
            sums[graph] = sums[graph] + row
            counts[graph] += 1
        else:
            sums[graph], counts[graph] = row.copy(), 1
    rows = {g: s / counts[g] for g, s in sums.items()}
    return ProxyTable(names, rows, OpVocab.from_graphs(graphs), max(g.n_nodes for g in graphs))


class WithProxies:
    """A batch source whose batches carry their cells' proxy features: ``((inputs, features), positions)``
    (what a network with ``proxy_input`` is fed: ``model(inputs, features)``)."""

    def __init__(self, source: Any, features: np.ndarray) -> None:
        self.source, self.features = source, np.asarray(features, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.source)

    def batches(
        self, indices: np.ndarray, batch_size: int, rng: np.random.Generator | None
    ) -> Iterator[tuple[Any, np.ndarray]]:
        """The source's batches, each with the features of its items."""
        import torch

        for inputs, positions in self.source.batches(indices, batch_size, rng):
            yield (inputs, torch.as_tensor(self.features[positions])), positions


class ProxyRidgeModel:
    """Closed-form ridge (intercept unpenalised) of a target on the proxy features of ``spec``."""

    def __init__(self, spec: ProxySpec, owner: str) -> None:
        self.spec, self.owner = spec, owner
        self.coef: np.ndarray | None = None
        self.center = np.empty(0)
        self.intercept = 0.0

    def _x(self, graphs: Sequence[ArchGraph]) -> np.ndarray:
        table = proxy_table(self.spec.space, self.spec.space_options, self.spec.proxies)
        return table.features(graphs, self.spec.encoding, self.owner)

    def fit(self, graphs: Sequence[ArchGraph], y: np.ndarray) -> ProxyRidgeModel:
        """Fit on ``graphs`` -> ``y``."""
        x = self._x(graphs)
        y = np.asarray(y, dtype=np.float64)
        self.center, self.intercept = x.mean(axis=0), float(y.mean())
        xc = x - self.center
        gram = xc.T @ xc + self.spec.alpha * np.eye(x.shape[1])
        self.coef = np.linalg.solve(gram, xc.T @ (y - self.intercept))
        return self

    def predict(self, graphs: Sequence[ArchGraph]) -> np.ndarray:
        """The fitted ridge's prediction for ``graphs``."""
        if self.coef is None:
            from nasearch.predictors.training import PredictorError

            raise PredictorError(f"{self.owner}: call fit before predict")
        if not len(graphs):
            return np.empty(0)
        return np.asarray((self._x(graphs) - self.center) @ self.coef + self.intercept)


class ProxyRidgePredictor(Predictor):
    """``proxy_ridge``: ridge regression on a space's zero-cost proxies (+ the flat encoding)."""

    def __init__(
        self,
        space: str,
        space_options: Mapping[str, Any] | None = None,
        proxies: Sequence[str] | None = None,
        alpha: float = DEFAULT_RIDGE["alpha"],
        encoding: bool = DEFAULT_RIDGE["encoding"],
        log_target: bool = False,
    ) -> None:
        value: dict[str, Any] = {
            "space": space,
            "space_options": space_options or {},
            "proxies": list(proxies or []),
        }
        value |= {"alpha": alpha, "encoding": encoding}
        self.spec = ProxySpec.parse(value, "proxy_ridge", RIDGE_KEYS)
        from nasearch.predictors.training import TargetScaler

        self.scaler = TargetScaler(log=bool(log_target))
        self.model = ProxyRidgeModel(self.spec, "proxy_ridge")

    def fit(self, graphs: Sequence[ArchGraph], y: Targets, hardware: Hardware = None) -> ProxyRidgePredictor:
        """Fit the ridge on ``graphs`` -> ``y`` (``hardware`` is ignored)."""
        from nasearch.predictors.training import check_fit_inputs

        target = check_fit_inputs(graphs, y, "proxy_ridge")
        self.scaler = self.scaler.fit(target)
        self.model = ProxyRidgeModel(self.spec, "proxy_ridge").fit(
            list(graphs), self.scaler.transform(target)
        )
        return self

    def predict(self, graphs: Sequence[ArchGraph], hardware: Hardware = None) -> np.ndarray:
        """Predicted targets for ``graphs``."""
        return self.scaler.inverse(self.model.predict(list(graphs)))


__all__ = [
    "DEFAULT_BLEND",
    "DEFAULT_RIDGE",
    "DEFAULT_INPUT_PROXIES",
    "ProxySpec",
    "ProxyTable",
    "ProxyRidgeModel",
    "ProxyRidgePredictor",
    "WithProxies",
    "INPUT_KEYS",
    "log_standardised",
    "proxy_table",
]
