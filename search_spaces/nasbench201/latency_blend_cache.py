"""``blend``'s choice for a target (selection rule, recipe, the recipes' means), kept on disk by content.

Choosing the selection rule by nested leave-one-die-out takes minutes on 2 cores, and ``blend`` made that
choice again each time a latency model was built for a target: each run of a hardware-aware config, each
resume, each benchmark. The choice is a deterministic function of what it reads: the training settings'
names, descriptions and measured tables, the params/FLOPs features of the cells, the recipe grid, the
candidate rules, the cell sample, the target's description and the options. So the first build stores
it as a plain ``.npz`` (no pickle) under :func:`nasearch.data.sources.cache_dir` in ``blend_choice/``,
named by a sha256 of all of those plus the version of the choosing code (its modules' hashes, numpy's
and scipy's versions, the file format): a changed table, grid or rule list never finds an old entry.

As every cache entry, it is written atomically with its sha256 recorded beside it
(``nasearch.data.cache_check``): a damaged entry, or one whose content is not what its name promises,
is removed with one line and the choice computed again, never used. ``cache: false`` (a ``blend`` option)
computes the choice every time; deleting the folder clears it; where no cache folder can be written the
choice is computed and not kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import zipfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy

from nasearch.api.errors import DataError
from nasearch.data import cache_check
from nasearch.data.devices import load_devices
from nasearch.data.sources import cache_dir
from nasearch.metrics.ranking import MetricError
from nasearch.search.code_version import code_version
from nasearch.search_spaces.nasbench201.latency_blend import (
    HOLDOUTS,
    BlendChoice,
    DescribedBlend,
    Recipe,
)
from nasearch.search_spaces.nasbench201.latency_blend_rules import RULES, SelectionRule
from nasearch.search_spaces.nasbench201.latency_models import LatencyTask, params_flops_features

#: the entries' folder under the cache folder
FOLDER = "blend_choice"
#: the layout of an entry; a new layout is a new key, so old entries are never read
FORMAT = 1


@lru_cache(maxsize=1)
def choosing_code() -> str:
    """The version of the code that makes the choice: the hashes of the modules it runs (blend, its rules,
    the latency models' features and distances, the τ, this file's layout), numpy's and scipy's versions."""
    parts = [
        code_version(cls) for cls in (DescribedBlend, SelectionRule, LatencyTask, MetricError, CachedEntry)
    ]
    return "; ".join([*parts, f"numpy {np.__version__}", f"scipy {scipy.__version__}", f"format {FORMAT}"])


def choice_key(blend: DescribedBlend, task: LatencyTask) -> str:
    """The sha256 of everything ``blend.choice(task)`` reads, and of the code that reads it."""
    table = load_devices()
    blob = json.dumps(
        {
            "code": choosing_code(),
            # every option the instance holds (a new one joins the key by itself), but whether to cache
            "options": {k: v for k, v in vars(blend).items() if k not in ("grid", "cache")},
            "grid": repr(blend.grid),
            "rules": repr(RULES),
            "target": dataclasses.asdict(task.target),
            "devices": [dataclasses.asdict(table[d]) for d in task.devices],
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(blob.encode())
    for array in (task.measured, params_flops_features(task.space), blend.sample(task)):
        data = np.ascontiguousarray(array, dtype=float)
        digest.update(repr(data.shape).encode() + data.tobytes())
    return digest.hexdigest()


class CachedEntry:
    """How a choice is written to and read from its ``.npz`` (plain arrays, read without pickle)."""

    @staticmethod
    def write(path: Path, key: str, choice: BlendChoice) -> None:
        """Store ``choice`` under ``key`` atomically, its sha256 recorded beside it."""
        cache_check.write_npz(
            path,
            {
                "key": np.asarray(key),
                "rule": np.asarray([choice.rule.selection_bandwidth, choice.rule.vote_batch_weight]),
                "holdout": np.asarray(choice.rule.holdout),
                "recipe": np.asarray(dataclasses.astuple(choice.recipe), dtype=float),
                "means": np.asarray(choice.means, dtype=float),
            },
        )

    @staticmethod
    def read(path: Path, key: str, grid: list[Recipe]) -> BlendChoice:
        """The choice stored at ``path`` after its content check; DataError, saying what is wrong, when
        it is damaged, malformed or not the entry of ``key`` and ``grid``."""
        why = cache_check.problem(path)
        if why is not None:
            raise DataError(f"the cached blend choice {str(path)!r} is damaged ({why})")
        try:
            with np.load(path, allow_pickle=False) as data:
                stored, rule = str(data["key"]), data["rule"].astype(float)
                holdout, recipe = str(data["holdout"]), Recipe(*map(float, data["recipe"]))
                means = np.asarray(data["means"], dtype=float)
        except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise DataError(f"the cached blend choice {str(path)!r} cannot be read ({exc})") from None
        if stored != key or means.shape != (len(grid),) or rule.shape != (2,) or holdout not in HOLDOUTS:
            raise DataError(f"the cached blend choice {str(path)!r} is not the entry of its inputs")
        if recipe != grid[int(np.argmax(means))]:  # as ``DescribedBlend`` picks it (NaN means: the first)
            raise DataError(f"the cached blend choice {str(path)!r} holds a recipe its means do not pick")
        return BlendChoice(SelectionRule(float(rule[0]), float(rule[1]), holdout), recipe, means)


def entry_path(key: str) -> Path:
    """Where the choice of ``key`` is kept (DataError when no cache folder can be made)."""
    return cache_dir() / FOLDER / f"{key[:32]}.npz"


def cached_choice(
    blend: DescribedBlend,
    task: LatencyTask,
    compute: Callable[[], BlendChoice],
    log: Callable[[str], None] | None = None,
) -> BlendChoice:
    """``blend``'s choice for ``task``: the stored entry of exactly these inputs, else ``compute()`` (and
    stored); a damaged or mismatched entry is removed with one line and computed again."""
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    key = choice_key(blend, task)
    try:
        path: Path | None = entry_path(key)
    except DataError:
        path = None  # no writable cache folder: computed, not kept
    damaged = False
    if path is not None and path.is_file():
        try:
            return CachedEntry.read(path, key, blend.grid)
        except DataError as exc:
            cache_check.discard(path, f"{exc}; choosing again", log)  # the one line that says so
            damaged = True
    if path is not None and not damaged:
        say(
            f"nasearch: blend: choosing the recipe for {task.target.name!r} from {len(task.devices)} training "
            f"settings ({blend.selection} selection; once for these inputs, cached at {path.parent})"
        )
    choice = compute()
    if path is not None:
        try:
            CachedEntry.write(path, key, choice)
        except OSError:
            pass  # a full or read-only cache folder: the choice is used, not kept
    return choice


__all__ = ["FOLDER", "FORMAT", "CachedEntry", "cached_choice", "choice_key", "choosing_code", "entry_path"]
