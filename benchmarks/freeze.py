"""Frozen means frozen: a benchmark invocation (its resolved config with every ``--set`` and CLI flag
applied, seeds included) is hashed, written to ``runs/frozen/<section>.json`` and committed before
the measurement; ``--frozen`` then refuses to run unless the tree is clean and the invocation
hashes to the committed file's hash.

    python -m benchmarks.bench_optimizers ... --freeze    # writes runs/frozen/<section>.json: commit it
    python -m benchmarks.bench_optimizers ... --frozen    # refuses any change to what was committed
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nasearch.data.provenance import options_hash, options_json

FROZEN_DIR = Path("runs/frozen")


def freeze_path(section: str, root: Path = FROZEN_DIR) -> Path:
    """Where the frozen invocation of BENCHMARKS section ``section`` is committed."""
    return root / f"{section}.json"


def write_freeze(path: Path, invocation: Mapping[str, Any]) -> str:
    """Write ``invocation`` and its hash to ``path`` (to be committed before the run); returns the hash."""
    digest = options_hash(invocation)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"hash": digest, "invocation": json.loads(options_json(invocation))}, indent=1, sort_keys=True
        )
        + "\n"
    )
    return digest


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)


def dirty_files(folder: Path, ignore: tuple[Path, ...] = ()) -> list[str] | None:
    """Tracked files with uncommitted changes in the git checkout holding ``folder`` (``ignore``:
    files not to count); None when ``folder`` is not in a git checkout."""
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top.returncode != 0:
        return None
    root = Path(top.stdout.strip())
    status = _git(["status", "--porcelain", "--untracked-files=no"], root)
    if status.returncode != 0:
        return None
    skip = {p.resolve() for p in ignore}
    names = [line[3:].split(" -> ")[-1] for line in status.stdout.splitlines() if line.strip()]
    return [n for n in names if (root / n).resolve() not in skip]


def check_frozen(path: Path, invocation: Mapping[str, Any]) -> str:
    """Refuse (``SystemExit``, one line) unless the tree is clean, ``path`` is committed and
    ``invocation`` hashes to its hash; returns the hash."""
    dirty = dirty_files(Path.cwd())
    if dirty:
        raise SystemExit(
            f"--frozen: uncommitted changes in {', '.join(dirty[:5])}: commit them before the run"
        )
    if not path.exists():
        raise SystemExit(f"--frozen: no {path}: run with --freeze first, commit it, then run with --frozen")
    if _git(["ls-files", "--error-unmatch", str(path)], Path.cwd()).returncode != 0:
        raise SystemExit(f"--frozen: {path} is not committed: commit it before the run")
    frozen = json.loads(path.read_text())
    digest = options_hash(invocation)
    if frozen.get("hash") != digest:
        before = _flat(frozen.get("invocation", {}))
        now = _flat(json.loads(options_json(invocation)))
        keys = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
        diff = "; ".join(f"{k}: frozen {before.get(k)!r}, now {now.get(k)!r}" for k in keys[:4])
        raise SystemExit(
            f"--frozen: this invocation hashes to {digest}, {path} froze {frozen.get('hash')} ({diff})"
        )
    return digest


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flat(v, f"{prefix}{i}."))
        return out or {prefix.rstrip("."): []}
    return {prefix.rstrip("."): value}


__all__ = ["FROZEN_DIR", "check_frozen", "dirty_files", "freeze_path", "write_freeze"]
