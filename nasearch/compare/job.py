"""A validated comparison, ready to fit: what ``nasearch compare`` (a config or ``--from-run``) and
``nasearch.compare`` hand to :func:`nasearch.compare.cli.execute`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nasearch.compare.schema import CompareConfig
from nasearch.compare.task import Task


@dataclass
class CompareJob:
    """A validated comparison, ready to fit: its config, predictor specs, output folder and title."""

    config: CompareConfig
    specs: dict[str, tuple[str, dict[str, object]]]
    out_dir: Path
    title: str
    #: the cells to compare on (None: the config's benchmark table)
    task: Task | None = None


__all__ = ["CompareJob"]
