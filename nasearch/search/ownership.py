"""A study belongs to one run folder: the folder's identity, stored in its studies and checked.

A run folder gets a random identity (``run_id`` in its ``run.json``) the first time it runs. Every
study it writes records that identity (study user attribute ``run_id``, with ``run_folder``); a
run that meets a study recorded by another folder, or a study that already holds trials of a run
from before identities existed, is refused with one line instead of adopting (and mixing) it.
A storage named in the config (``storage:``, possibly shared by several runs) gets study names
that carry the identity (``<name>@<id>/seed-<k>``), so several runs sit side by side in one
database; the folder's own ``study.db`` keeps the plain names. The names a folder uses are fixed
the first time it runs (``study_prefix`` in ``run.json``), so later sessions find them again.

Before a session writes anything, :func:`check_study_state` also refuses a study that lost its
trials (a zero-byte or replaced ``study.db``) while ``summary.json`` recorded some.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nasearch.api.errors import ConfigError, StorageError
from nasearch.search import run_record

if TYPE_CHECKING:
    import optuna
from nasearch.search.report import previous_summary

ID_ATTR = "run_id"
FOLDER_ATTR = "run_folder"


@dataclass(frozen=True)
class RunIdentity:
    """Who a run folder is: its id, the prefix of its study names, and whether it is new or was
    written before identities existed (``legacy``: its studies are adopted)."""

    run_id: str
    study_prefix: str
    folder: str
    new: bool
    legacy: bool


def identity(run_dir: Path, run_name: str, storage: str | None) -> RunIdentity:
    """The folder's identity from its ``run.json`` (a new one for a new folder). Nothing is written."""
    meta: dict[str, object] = {}
    path = run_dir / run_record.FILE
    if path.is_file():
        try:
            meta = run_record.read_json(run_dir)
        except ConfigError as exc:
            raise StorageError(f"{str(path)!r} is unreadable ({exc}); it names the run's studies") from None
    folder = str(run_dir.resolve())
    if meta.get(ID_ATTR):
        return RunIdentity(
            str(meta[ID_ATTR]), str(meta.get("study_prefix") or run_name), folder, False, False
        )
    run_id = uuid.uuid4().hex[:12]
    if meta:  # a folder from before identities: it keeps its study names and adopts its studies
        return RunIdentity(run_id, str(meta.get("name") or run_name), folder, False, True)
    shared = bool(storage) and storage != "memory"
    return RunIdentity(run_id, f"{run_name}@{run_id}" if shared else run_name, folder, True, False)


def check_owner(study: optuna.Study, name: str, url: str, who: RunIdentity) -> None:
    """Refuse a study that holds trials another run folder wrote (nothing is written here)."""
    attrs = study.user_attrs
    owner = attrs.get(ID_ATTR)
    if owner == who.run_id:
        return
    trials = len(study.get_trials(deepcopy=False))
    if not trials:
        return  # an empty study (e.g. left by a refused session) is anyone's to use
    if owner is not None:
        raise ConfigError(
            f"study {name!r} in {url} belongs to another run folder ({attrs.get(FOLDER_ATTR) or '?'}, "
            f"run id {owner}); a study holds one run: use another run name, --out or storage"
        )
    if not who.legacy:
        raise ConfigError(
            f"study {name!r} in {url} already holds {trials} trial(s) of a run that did not record its "
            "folder; a new run folder does not adopt them: use another run name or storage"
        )


def claim(study: optuna.Study, who: RunIdentity) -> None:
    """Record this folder's identity in a study that passed :func:`check_owner`."""
    if study.user_attrs.get(ID_ATTR) != who.run_id:
        study.set_user_attr(ID_ATTR, who.run_id)
        study.set_user_attr(FOLDER_ATTR, who.folder)


def check_study_state(run_dir: Path, study: str, stored_trials: int, db_path: Path | None) -> None:
    """Refuse to start over when ``summary.json`` recorded trials of ``study`` that the storage no
    longer holds (a zero-byte, truncated or replaced database)."""
    before = previous_summary(run_dir).get(study)
    if not before:
        return
    recorded = int(before.get("queries") or 0)
    if recorded and stored_trials == 0:
        where = f"{str(db_path)!r}" if db_path is not None else "the storage"
        raise StorageError(
            f"{where} holds no trials of study {study!r}, but {str(run_dir / 'summary.json')!r} recorded "
            f"{recorded} queries: the database was emptied or replaced; restore it, or use a new --out"
        )


def check_database_file(run_dir: Path, url: str) -> None:
    """A zero-byte SQLite file in a folder whose summary recorded queries is an error naming it (opening
    it would silently start a fresh, empty database)."""
    if not url.startswith("sqlite:///"):
        return
    path = Path(url[len("sqlite:///") :])
    if not path.is_file() or path.stat().st_size:
        return
    recorded = sum(int(r.get("queries") or 0) for r in previous_summary(run_dir).values())
    if recorded:
        raise StorageError(
            f"{str(path)!r} is empty (zero bytes), but {str(run_dir / 'summary.json')!r} recorded {recorded} "
            "queries: the database was truncated; restore it, or use a new --out"
        )


__all__ = [
    "ID_ATTR",
    "FOLDER_ATTR",
    "RunIdentity",
    "identity",
    "check_owner",
    "claim",
    "check_study_state",
    "check_database_file",
]
