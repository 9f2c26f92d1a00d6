"""Blend's choice kept on disk (``latency_blend_cache``), on the real HELP tables: a hit is the computed
choice, a changed input misses, a damaged entry is said and never used, and the cache can be turned off.

The setup is cheap, not the default's: the nested selection over six training settings of four dies (two
CPUs, two phones, the two GP102 cards) for a TU102 target (its die held out), on a three-by-two grid; the
default (every other die's settings, 60 recipes, 3000 cells) takes minutes per target on 2 cores.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from nasearch.api.errors import ConfigError
from nasearch.data.devices import load_devices
from nasearch.search_spaces.nasbench201 import latency_blend, latency_blend_cache
from nasearch.search_spaces.nasbench201.latency_blend import BlendChoice, DescribedBlend
from nasearch.search_spaces.nasbench201.latency_blend_cache import (
    FOLDER,
    CachedEntry,
    choice_key,
    entry_path,
)
from nasearch.search_spaces.nasbench201.latency_blend_rules import RULES, SelectionRule
from nasearch.search_spaces.nasbench201.latency_models import LatencyTask, build_task

OPTIONS = {"bandwidths": [0.0, 1.0, math.inf], "pf_weights": [0.0, 1.0], "batch_weights": [1.0]}
TRAINING = ("gold_6226", "gold_6240", "pixel3", "samsung_a50", "1080ti_32", "titanxp_32")
TARGET = "titan_rtx_32"  # TU102: no setting of its die is in TRAINING


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    """An empty cache folder, and blend's in-memory τ cleared (so a computed choice is computed)."""
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(latency_blend, "_TAUS", {})
    return tmp_path / "cache" / FOLDER


@pytest.fixture
def computes(monkeypatch) -> list[str]:
    """The targets blend computed a choice for (each call of ``DescribedBlend._compute``)."""
    calls: list[str] = []
    original = DescribedBlend._compute

    def counted(self: DescribedBlend, task: LatencyTask, rule: SelectionRule | None = None) -> BlendChoice:
        calls.append(task.target.name)
        return original(self, task, rule)

    monkeypatch.setattr(DescribedBlend, "_compute", counted)
    return calls


def _task(space, target: str = TARGET, measured: np.ndarray | None = None) -> LatencyTask:
    task = build_task(space, load_devices()[target], list(TRAINING))
    if measured is not None:
        task.measured = measured
    return task


def _same(a: BlendChoice, b: BlendChoice) -> None:
    assert (a.rule, a.recipe) == (b.rule, b.recipe)
    np.testing.assert_array_equal(a.means, b.means)


def test_a_cached_choice_is_the_computed_one(nb201_space, cache: Path, computes: list[str], capsys) -> None:
    task = _task(nb201_space)
    computed = DescribedBlend(**OPTIONS, cache=False).choice(task)  # type: ignore[arg-type]
    assert computed.rule in RULES and np.isfinite(computed.means).all()
    assert not cache.exists()  # cache: false writes nothing
    first = DescribedBlend(**OPTIONS).choice(task)  # type: ignore[arg-type]
    assert "blend: choosing the recipe for 'titan_rtx_32'" in capsys.readouterr().err
    assert computes == [TARGET, TARGET] and len(list(cache.glob("*.npz"))) == 1
    second = DescribedBlend(**OPTIONS).choice(task)  # type: ignore[arg-type]
    assert computes == [TARGET, TARGET]  # read from the file, not computed
    assert capsys.readouterr().err == ""
    _same(first, computed)
    _same(second, computed)
    # choose and estimate return what they compute without the cache
    blend = DescribedBlend(**OPTIONS)  # type: ignore[arg-type]
    recipe, means = blend.choose(task)
    assert recipe == computed.recipe
    np.testing.assert_array_equal(means, computed.means)
    np.testing.assert_array_equal(
        blend.estimate(task),
        DescribedBlend(**OPTIONS, cache=False).estimate(task),  # type: ignore[arg-type]
    )
    assert computes == [TARGET, TARGET, TARGET]  # only the uncached estimate computed again


def test_a_changed_input_misses(nb201_space, cache: Path, computes: list[str], monkeypatch) -> None:
    task = _task(nb201_space)
    blend = DescribedBlend(**OPTIONS)  # type: ignore[arg-type]
    key = choice_key(blend, task)
    assert choice_key(DescribedBlend(**OPTIONS), _task(nb201_space)) == key  # type: ignore[arg-type]
    table = task.measured.copy()
    table[2, 7] *= 1.01  # one cell of one training table
    described = _task(nb201_space)
    described.target = dataclasses.replace(described.target, power_w=described.target.power_w + 1)
    changed = {
        "a training table": choice_key(blend, _task(nb201_space, measured=table)),
        "the target": choice_key(blend, _task(nb201_space, "titan_rtx_256")),
        "the target's description": choice_key(blend, described),
        "the grid": choice_key(DescribedBlend(**{**OPTIONS, "pf_weights": [0.0, 0.5]}), task),  # type: ignore[arg-type]
        "the cell sample": choice_key(DescribedBlend(**OPTIONS, selection_cells=2999), task),  # type: ignore[arg-type]
        "the selection": choice_key(DescribedBlend(**OPTIONS, selection="fixed"), task),  # type: ignore[arg-type]
    }
    monkeypatch.setattr(latency_blend_cache, "RULES", RULES[:-1])
    changed["the candidate rules"] = choice_key(blend, task)
    monkeypatch.setattr(latency_blend_cache, "RULES", RULES)
    assert all(k != key for k in changed.values()), [n for n, k in changed.items() if k == key]
    assert len(set(changed.values())) == len(changed)
    # a stored choice is not found for a changed table: computed again
    blend.choice(task)
    blend.choice(_task(nb201_space, measured=table))
    assert computes == [TARGET, TARGET] and len(list(cache.glob("*.npz"))) == 2


def test_the_code_that_chooses_is_part_of_the_key(nb201_space, cache: Path, monkeypatch) -> None:
    task = _task(nb201_space)
    blend = DescribedBlend(**OPTIONS)  # type: ignore[arg-type]
    key = choice_key(blend, task)
    code = latency_blend_cache.choosing_code()
    assert "latency_blend.py sha256" in code and "latency_blend_rules.py sha256" in code
    monkeypatch.setattr(latency_blend_cache, "choosing_code", lambda: code.replace("format 1", "format 2"))
    assert choice_key(blend, task) != key


def test_a_damaged_entry_is_said_in_one_line_and_not_used(
    nb201_space, cache: Path, computes: list[str], capsys
) -> None:
    task = _task(nb201_space)
    blend = DescribedBlend(**OPTIONS)  # type: ignore[arg-type]
    right = blend.choice(task)
    path = entry_path(choice_key(blend, task))
    capsys.readouterr()
    # a same-size edit of the stored means: the recorded sha256 no longer matches
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    again = blend.choice(task)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is damaged (content differs from its recorded sha256)" in err[0], err
    assert computes == [TARGET, TARGET]  # chosen again, not read
    _same(again, right)
    assert latency_blend_cache.cache_check.problem(path, again=True) is None  # rewritten whole
    # an intact entry of other inputs under this key's name (its own sha256 recorded): refused too
    wrong = BlendChoice(right.rule, next(r for r in blend.grid if r != right.recipe), right.means)
    CachedEntry.write(path, "0" * 64, wrong)
    _same(blend.choice(task), right)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not the entry of its inputs" in err[0], err
    # right key, but a recipe its means do not pick
    CachedEntry.write(path, choice_key(blend, task), wrong)
    _same(blend.choice(task), right)
    assert "holds a recipe its means do not pick" in capsys.readouterr().err
    assert computes == [TARGET] * 4


def test_the_cache_can_be_turned_off(nb201_space, cache: Path, computes: list[str]) -> None:
    task = _task(nb201_space)
    blend = DescribedBlend(**OPTIONS, cache=False)  # type: ignore[arg-type]
    blend.choice(task)
    blend.estimate(task)
    assert computes == [TARGET, TARGET] and not cache.exists()
    with pytest.raises(ConfigError, match="latency model blend: cache must be true or false"):
        DescribedBlend(cache="no")  # type: ignore[arg-type]
