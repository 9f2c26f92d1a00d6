"""An objective: the metric a search scores and its direction, and the one normaliser of its spellings.

A config lists objectives as ``{metric, direction}`` mappings or ``[metric, direction]`` pairs; an
evaluator, a study's attributes and ``run.json`` hold ``(metric, maximize)`` pairs. Every part of
nasearch turns them into ``Objective`` here, so there is one rule for what an objective is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from nasearch.api.errors import ConfigError

DIRECTIONS = ("maximize", "minimize")


class Objective(NamedTuple):
    """One objective: a metric name and whether larger values are better (a ``(metric, maximize)`` pair)."""

    metric: str
    maximize: bool = True


def objective_list(objectives: Iterable[object], what: str = "evaluator objectives") -> list[Objective]:
    """A config's ``[{metric, direction}]`` / ``[[metric, direction]]`` -> ``[Objective]`` (an
    ``Objective`` passes as it is); a ConfigError names the bad item."""
    out = []
    for i, item in enumerate(objectives):
        if isinstance(item, Objective):
            out.append(item)
            continue
        if isinstance(item, Mapping):
            unknown = set(item) - {"metric", "direction"}
            if unknown or "metric" not in item:
                raise ConfigError(
                    f"{what}[{i}]: expected {{metric: NAME, direction: maximize|minimize}}, got {dict(item)!r}"
                )
            metric, direction = item["metric"], item.get("direction", "maximize")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            metric, direction = item
        else:
            raise ConfigError(f"{what}[{i}]: expected {{metric, direction}}, got {item!r}")
        if direction not in DIRECTIONS:
            raise ConfigError(f"{what}[{i}]: direction must be maximize or minimize, got {direction!r}")
        out.append(Objective(str(metric), direction == "maximize"))
    if not out:
        raise ConfigError(f"{what}: give at least one {{metric, direction}}")
    return out


def stored_objectives(pairs: Iterable[Sequence[object]]) -> list[Objective]:
    """``(metric, maximize)`` pairs as an evaluator, a study or ``run.json`` holds them -> ``[Objective]``."""
    return [Objective(str(metric), bool(maximize)) for metric, maximize in pairs]


def stored_pairs(objectives: Iterable[Sequence[object]]) -> list[list[object]]:
    """Objectives as ``run.json`` and a study's attributes store them: ``[[metric, maximize], ...]``."""
    return [[str(metric), bool(maximize)] for metric, maximize in objectives]


__all__ = ["DIRECTIONS", "Objective", "objective_list", "stored_objectives", "stored_pairs"]
