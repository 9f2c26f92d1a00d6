"""Unlabeled pre-training of a neural predictor: regress the zero-cost proxies of every cell of a space.

A ``TorchPredictor`` (NN-Former, GIN, MLP) given ``pretrain={"space": "nasbench201", ...}`` first
trains its module on ALL the space's cells (no accuracy label: the target is the space's zero-cost
proxies, the ``ZeroCostProxies`` capability) and then fine-tunes those weights on the labelled cells
with its usual loop. Any space that offers ``enumerate`` and ``proxies`` can be named. The keys:

- ``space`` (required): the registry name of the space whose cells are pre-trained on;
- ``space_options``: its options (use the ones the fine-tuning cells come from, e.g. ``prune_graph``);
- ``proxies``: which proxies make the target (default ``["synflow"]``); each is turned into its
  standardised rank over the space's cells, and the target is their mean (ranks: the proxies span
  many orders of magnitude, and only their order matters);
- ``steps`` (default 2000), ``batch_size`` (128), ``lr`` (1e-3), ``seed`` (0): the pre-training run
  (the shared loop's warm-up/cosine, EMA and loss, with the fine-tune's ``rank_weight``). The loop
  trains whole passes, so ``steps`` rounds up to one: on NB201 (123 batches a pass) 500 steps run 615
  batches; on NB101 (3,314 batches a pass, grouped by cell size) any ``steps`` up to 3,314 runs one pass.

The pre-trained weights depend only on these settings and the module's shape, not on the labelled
cells or the fit seed, so they are cached: ``<cache>/pretrained/<hash>.pt``, with its sha256 recorded
and checked (``nasearch.data.cache_check``; a damaged file is retrained with one log line). The
first fit pays the pre-training (``Pretrained.seconds``), later fits load it.

With ``proxy_input`` as well (NN-Former), pre-training never feeds the proxies, whose rank is its
target: it runs the module without them, so the input map stays at its zero start (and the cache key
holds the map's shape); the fine-tune on the labelled cells then feeds them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from nasearch.api import Enumerable, ZeroCostProxies
from nasearch.api.errors import ConfigError, suggest
from nasearch.api.graph import ArchGraph
from nasearch.api.space_calls import to_graph
from nasearch.data import cache_check
from nasearch.data.sources import cache_dir
from nasearch.predictors.space_option import check_space_option

KEYS = ("space", "space_options", "proxies", "steps", "batch_size", "lr", "seed")


@dataclasses.dataclass(frozen=True)
class PretrainSpec:
    """The ``pretrain`` option of a predictor, checked."""

    space: str
    space_options: tuple[tuple[str, Any], ...] = ()
    proxies: tuple[str, ...] = ("synflow",)
    steps: int = 2000
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0

    @classmethod
    def parse(cls, value: Mapping[str, Any], owner: str = "predictor") -> PretrainSpec:
        """The spec of a ``pretrain`` mapping; a ConfigError names a wrong key or value."""
        check_space_option(value, owner, "pretrain", KEYS)
        proxies = value.get("proxies", ["synflow"])
        if isinstance(proxies, str) or not proxies or not all(isinstance(p, str) for p in proxies):
            raise ConfigError(f"{owner}: pretrain.proxies must be a non-empty list of names, got {proxies!r}")
        options = value.get("space_options") or {}
        if not isinstance(options, Mapping):
            raise ConfigError(f"{owner}: pretrain.space_options must be a mapping, got {options!r}")
        spec = cls(
            space=value["space"],
            space_options=tuple(sorted((str(k), v) for k, v in options.items())),
            proxies=tuple(proxies),
            steps=int(value.get("steps", 2000)),
            batch_size=int(value.get("batch_size", 128)),
            lr=float(value.get("lr", 1e-3)),
            seed=int(value.get("seed", 0)),
        )
        for ok, what in (
            (spec.steps >= 1, "steps must be >= 1"),
            (spec.batch_size >= 2, "batch_size must be >= 2"),
            (spec.lr > 0, "lr must be > 0"),
        ):
            if not ok:
                raise ConfigError(f"{owner}: pretrain.{what}")
        return spec

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain JSON values (what the cache key hashes)."""
        out = dataclasses.asdict(self)
        out["space_options"] = dict(self.space_options)
        out["proxies"] = list(self.proxies)
        return out


@dataclasses.dataclass
class SpaceCells:
    """Every cell of a space as a graph, and the pre-training target of each."""

    graphs: list[ArchGraph]
    target: np.ndarray


def rank_standardised(values: np.ndarray) -> np.ndarray:
    """Average ranks of ``values`` (ties share one), standardised to mean 0 and std 1."""
    from scipy.stats import rankdata

    ranks = rankdata(np.asarray(values, dtype=np.float64))
    std = float(ranks.std())
    return (ranks - ranks.mean()) / (std or 1.0)


@lru_cache(maxsize=4)
def space_cells(spec: PretrainSpec) -> SpaceCells:
    """The graphs of all cells of ``spec.space`` and their target (cached in this process)."""
    from nasearch.config.options import call_with_options
    from nasearch.config.registry import SEARCH_SPACES

    space = call_with_options(
        SEARCH_SPACES.get(spec.space), dict(spec.space_options), f"space {spec.space!r}"
    )
    if not isinstance(space, ZeroCostProxies) or not isinstance(space, Enumerable):
        raise ConfigError(
            f"pretrain: space {spec.space!r} must offer enumerate and proxies (zero-cost proxies of every cell)"
        )
    known = list(space.proxy_names())
    bad = [p for p in spec.proxies if p not in known]
    if bad:
        raise ConfigError(
            f"pretrain: space {spec.space!r} has no proxy {bad[0]!r}{suggest(bad[0], known)} "
            f"(proxies: {', '.join(known)})"
        )
    archs = list(space.enumerate())
    graphs = [to_graph(space, a) for a in archs]
    columns = np.array([[space.proxies(a)[p] for p in spec.proxies] for a in archs], dtype=np.float64)
    target = np.mean([rank_standardised(columns[:, j]) for j in range(columns.shape[1])], axis=0)
    return SpaceCells(graphs, rank_standardised(target) if len(spec.proxies) > 1 else target)


@dataclasses.dataclass
class Pretrained:
    """What ``pretrained_module`` did: the cache file, and the seconds spent pre-training (0 if loaded)."""

    path: str
    seconds: float
    loaded: bool


def pretrained_module(
    predictor: Any, spec: PretrainSpec, graphs: Sequence[ArchGraph]
) -> tuple[nn.Module, Pretrained]:
    """``predictor``'s module (built after ``_prepare`` on the space's cells plus ``graphs``) with
    the pre-trained weights of ``spec``: loaded from the cache, else trained and cached."""
    from nasearch.predictors.training import TrainConfig, seed_everything, train_regressor

    cells = space_cells(spec)
    predictor._prepare([*cells.graphs, *graphs], None)
    config = predictor.train_config
    seed_everything(spec.seed)
    module: nn.Module = predictor._build_module()
    key = hashlib.sha256(
        json.dumps(
            {
                "predictor": f"{type(predictor).__module__}.{type(predictor).__qualname__}",
                "module": repr(module),
                "spec": spec.as_dict(),
                "rank_weight": config.rank_weight,
                "torch": torch.__version__.split("+")[0],
            },
            sort_keys=True,
            default=str,
        ).encode()
        + cells.target.astype(np.float64).tobytes()
    ).hexdigest()
    path = cache_dir() / "pretrained" / f"{key[:24]}.pt"
    if path.is_file():
        why = cache_check.problem(path)
        if why is None:
            module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            return module, Pretrained(str(path), 0.0, True)
        cache_check.discard(
            path, f"the pre-trained weights {str(path)!r} are damaged ({why}); pre-training again"
        )
    run = TrainConfig(
        epochs=10**6,
        batch_size=spec.batch_size,
        lr=spec.lr,
        max_steps=spec.steps,
        rank_weight=config.rank_weight,
        seed=spec.seed,
        device=config.device,
        threads=config.threads,
    )
    start = time.perf_counter()
    result = train_regressor(
        module, predictor._encode(cells.graphs, None), cells.target, run, predictor._forward
    )
    seconds = time.perf_counter() - start
    module = result.model.cpu()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(module.state_dict(), tmp)
    os.replace(tmp, path)
    cache_check.record(path)
    return module, Pretrained(str(path), seconds, False)


__all__ = [
    "KEYS",
    "PretrainSpec",
    "SpaceCells",
    "Pretrained",
    "rank_standardised",
    "space_cells",
    "pretrained_module",
]
