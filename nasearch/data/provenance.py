"""Where a result row came from: its resolved options (JSON), a short hash of them, the package
version and the git commit, so that a rendered table can refuse rows made under other settings.

``provenance(options)`` gives the four fields every ``results.csv`` row and every ``summary.json``
entry carries (``PROVENANCE_FIELDS``); ``options_hash`` is what a table compares against the
configuration it names. ``resolved_options`` fills in a constructor's defaults, so a row made
before a default changed hashes differently from one made after.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

import nasearch
from nasearch.config.options import declared_defaults

#: the columns / keys a traced row carries
PROVENANCE_FIELDS = ("options", "options_hash", "version", "commit")
#: hex digits of the options hash (48 bits: collisions among a project's configurations are negligible)
HASH_LENGTH = 10


def options_json(options: Mapping[str, object]) -> str:
    """``options`` as canonical JSON (sorted keys, no spaces; non-JSON values by ``str``)."""
    return json.dumps(_plain(options), sort_keys=True, separators=(",", ":"), default=str)


def options_hash(options: Mapping[str, object]) -> str:
    """A short, stable hash of ``options`` (equal for equal canonical JSON)."""
    return hashlib.sha256(options_json(options).encode()).hexdigest()[:HASH_LENGTH]


def _plain(value: object) -> object:
    """Tuples as lists and numpy scalars as Python numbers, so equal settings serialise equally."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


def resolved_options(factory: Callable[..., object], options: Mapping[str, object]) -> dict[str, object]:
    """``options`` on top of every default ``factory`` declares (what it really ran with): its
    constructor's keyword defaults, those of the bases it forwards ``**options`` to, and a class's
    ``option_defaults`` (``nasearch.config.options.declared_defaults``)."""
    return {**declared_defaults(factory), **options}


def package_version() -> str:
    """The installed nasearch version."""
    return str(getattr(nasearch, "__version__", "unknown"))


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the source tree nasearch runs from (``-dirty`` if it has uncommitted changes);
    empty when it is not a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head[:12] + ("-dirty" if dirty else "") if head else ""


def provenance(options: Mapping[str, object]) -> dict[str, str]:
    """The fields a result row carries: options JSON, their hash, the version and the commit."""
    return {
        "options": options_json(options),
        "options_hash": options_hash(options),
        "version": package_version(),
        "commit": git_commit(),
    }


def run_provenance(run_dir: Path) -> dict[str, str]:
    """Provenance of a ``nasearch run`` folder: its resolved ``config.yaml`` (seeds left out, so every
    seed of one configuration shares a hash)."""
    import yaml

    path = Path(run_dir) / "config.yaml"
    config = yaml.safe_load(path.read_text()) if path.exists() else {}
    options = {k: v for k, v in (config or {}).items() if k != "seeds"}
    return provenance(options)


__all__ = [
    "PROVENANCE_FIELDS",
    "git_commit",
    "options_hash",
    "options_json",
    "package_version",
    "provenance",
    "resolved_options",
    "run_provenance",
]
