"""What an evaluation means, remembered by the run folder (``fingerprint.json``).

A run's fingerprint is the resolved search space block, the evaluator block and the objectives:
everything that changes what a stored trial's numbers mean. Budget, seeds, optimizers,
parallelism, storage and the data folder are not in it and may change between sessions.
An evaluator may name options that do not change its numbers' meaning (``operational_options``,
e.g. the training evaluator's ``device`` and ``num_threads``); those are left out too.

Resuming with a different fingerprint is refused with the keys that differ, unless the user passes
``--allow-config-change``; then the new fingerprint is kept and the change is logged in the file.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from nasearch.api.errors import ConfigError, StorageError
from nasearch.data.safeio import write_text

FILE_NAME = "fingerprint.json"
_UNSET = "(unset)"


def _flatten(value: object, prefix: str, out: dict[str, object]) -> None:
    if isinstance(value, Mapping) and value:
        for key in sorted(value, key=str):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value


def fingerprint(
    config: Mapping[str, object], objectives: Iterable[tuple[str, bool]], operational: Iterable[str] = ()
) -> dict[str, object]:
    """``{dotted key: value}`` of what decides what an evaluation means, from a resolved config
    (``runconfig.to_dict``) and the evaluator's objectives."""
    evaluator = {
        k: v
        for k, v in dict(cast(Mapping[str, object], config.get("evaluator") or {})).items()
        if k not in set(operational)
    }
    parts = {
        "search_space": dict(cast(Mapping[str, object], config.get("search_space") or {})),
        "evaluator": evaluator,
        "objectives": [[str(m), "maximize" if mx else "minimize"] for m, mx in objectives],
    }
    flat: dict[str, object] = {}
    _flatten(json.loads(json.dumps(parts, default=str)), "", flat)  # plain JSON values, stable types
    return flat


def digest(values: Mapping[str, object]) -> str:
    """A short stable hash of a fingerprint."""
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def differences(old: Mapping[str, object], new: Mapping[str, object]) -> list[str]:
    """``key: old -> new`` for every key whose value differs."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, _UNSET), new.get(key, _UNSET)
        if a != b:
            out.append(f"{key}: {_show(a)} -> {_show(b)}")
    return out


def _show(value: object) -> str:
    return value if value is _UNSET else json.dumps(value)


@dataclass
class Pending:
    """A fingerprint that passed :func:`check`, written by :meth:`store` once every other check
    that can refuse the run has passed too (a refused run leaves the folder untouched)."""

    path: Path
    values: dict[str, object]
    diffs: list[str]
    history: list[dict[str, object]]
    needed: bool
    #: the code computing the evaluations (``nasearch.search.code_version``), and how it changed (warned, not refused)
    code: dict[str, str] | None = None
    code_changes: list[str] = field(default_factory=list)

    def store(self) -> None:
        """Write ``fingerprint.json`` (when it is new or changed)."""
        if not self.needed:
            return
        history = list(self.history)
        if self.diffs or self.code_changes:
            history.append(
                {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "changes": self.diffs + self.code_changes}
            )
        data: dict[str, object] = {"digest": digest(self.values), "values": self.values, "history": history}
        if self.code is not None:
            data["code"] = self.code
        write_text(self.path, json.dumps(data, indent=2))


def check(
    run_dir: Path,
    values: dict[str, object],
    allow_change: bool,
    previous_config: Mapping[str, object] | None = None,
    previous_objectives: Iterable[tuple[str, bool]] | None = None,
    operational: Iterable[str] = (),
    has_trials: bool = True,
    code: dict[str, str] | None = None,
) -> Pending:
    """Compare ``values`` with the folder's fingerprint; what to store (nothing is written here).
    Raises ConfigError when they differ and ``allow_change`` is off.

    A folder written before fingerprints existed is compared with its ``config.yaml`` (and the
    objectives of its ``run.json``) when it holds trials."""
    path = run_dir / FILE_NAME
    stored: dict[str, object] | None = None
    stored_code: dict[str, str] | None = None
    history: list[dict[str, object]] = []
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            stored, history = dict(data["values"]), list(data.get("history", []))
            stored_code = dict(data["code"]) if isinstance(data.get("code"), dict) else None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StorageError(
                f"{str(path)!r} is unreadable ({exc}); delete it to accept the current config"
            ) from None
    elif previous_config is not None and previous_objectives is not None and has_trials:
        stored = fingerprint(previous_config, previous_objectives, operational)
    diffs = differences(stored, values) if stored is not None else []
    if diffs and not allow_change:
        raise ConfigError(
            f"resume refused: {str(run_dir)!r} holds trials evaluated under another configuration; "
            f"{'; '.join(diffs)}. These change what an evaluation means: use another --out for a new run, "
            "or pass --allow-config-change to add to this one anyway"
        )
    code_changes = [
        f"code of the {part}: {stored_code.get(part)} -> {now}"
        for part, now in (code or {}).items()
        if stored_code is not None and stored_code.get(part) not in (None, now)
    ]
    needed = stored is None or bool(diffs) or bool(code_changes) or (code is not None and stored_code is None)
    return Pending(path, values, diffs, history, needed, code, code_changes)


__all__ = ["fingerprint", "digest", "differences", "check", "Pending", "FILE_NAME"]
