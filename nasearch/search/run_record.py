"""``run.json``, typed: what a run folder is (its name, storage, objectives, optimum and studies).

Written once per session by the loop (``nasearch.search.loop``) and read by resume (identity,
fingerprint), the curves, ``nasearch.load`` and the CLI's summary. The file's format is unchanged
from the untyped dict it replaces, so folders written before it resume and plot as they did.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasearch.api.errors import ConfigError
from nasearch.api.objective import Objective, stored_objectives, stored_pairs
from nasearch.data.safeio import write_text
from nasearch.search.trajectory import KnownOptimum

FILE = "run.json"


@dataclass(frozen=True)
class StudyEntry:
    """One (optimizer, seed) study of the run: its storage name, its label, optimizer and seed."""

    study: str
    label: str
    optimizer: str
    seed: int

    def to_json(self) -> dict[str, object]:
        """The entry as ``run.json`` stores it."""
        return {"study": self.study, "label": self.label, "optimizer": self.optimizer, "seed": self.seed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StudyEntry:
        """Read one entry back (a missing optimizer is its label)."""
        return cls(
            str(data["study"]),
            str(data["label"]),
            str(data.get("optimizer", data["label"])),
            int(data["seed"]),
        )


@dataclass
class RunRecord:
    """A run folder's ``run.json``. ``run_id`` and ``study_prefix`` are None in a folder written before
    run identities (``nasearch.search.ownership``)."""

    name: str
    storage: str
    objectives: list[Objective]
    run_id: str | None = None
    study_prefix: str | None = None
    test_metric: str | None = None
    search_space: str | None = None
    optimum: KnownOptimum = field(default_factory=KnownOptimum)
    reference_point: list[float] | None = None
    studies: list[StudyEntry] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        """What the names of the run's studies start with (``<prefix>/...``)."""
        return self.study_prefix or self.name

    def to_json(self) -> dict[str, object]:
        """The record as ``run.json`` holds it (the keys in the order the file has always had)."""
        out: dict[str, object] = {
            "name": self.name,
            "run_id": self.run_id,
            "study_prefix": self.study_prefix,
            "storage": self.storage,
            "objectives": stored_pairs(self.objectives),
            "test_metric": self.test_metric,
            "search_space": self.search_space,
        }
        out.update(self.optimum.attrs())
        out["reference_point"] = self.reference_point
        out["studies"] = [s.to_json() for s in self.studies]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        """Read a ``run.json`` mapping back; a KeyError/TypeError/ValueError for one that is not."""

        def text(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        reference = data.get("reference_point")
        return cls(
            name=str(data["name"]),
            storage=str(data["storage"]),
            objectives=stored_objectives(data["objectives"]),
            run_id=text("run_id"),
            study_prefix=text("study_prefix"),
            test_metric=text("test_metric"),
            search_space=text("search_space"),
            optimum=KnownOptimum.from_attrs(data),
            reference_point=None if reference is None else [float(v) for v in reference],
            studies=[StudyEntry.from_json(e) for e in data.get("studies") or []],
        )

    def write(self, run_dir: Path) -> None:
        """Write ``run_dir/run.json`` (atomically, ``nasearch.data.safeio``)."""
        write_text(run_dir / FILE, json.dumps(self.to_json(), indent=2))


def read_json(run_dir: Path) -> dict[str, object]:
    """``run_dir/run.json`` as a mapping; a ConfigError when the folder has none or it is damaged."""
    path = Path(run_dir) / FILE
    if not path.is_file():
        raise ConfigError(f"{str(run_dir)!r} is not a run folder written by `nasearch run` (no run.json)")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: damaged run.json ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: damaged run.json (not a JSON object)")
    return data


def read(run_dir: Path) -> RunRecord:
    """The folder's record; a ConfigError when it has none or it is damaged."""
    data = read_json(run_dir)
    try:
        return RunRecord.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{Path(run_dir) / FILE}: damaged run.json (bad or missing {exc})") from None


__all__ = ["FILE", "RunRecord", "StudyEntry", "read", "read_json"]
