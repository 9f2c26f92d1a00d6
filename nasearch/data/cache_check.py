"""Content checks of the cache folder's files: a sha256 recorded when an entry is written, checked when read.

Every cache entry (a decompressed table, a derived index such as NAS-Bench-101's) gets a sidecar
``<file>.sha256`` written right after the entry itself. A reader calls :func:`problem` before using
an entry: a missing, different or unreadable record means the entry is damaged (or was written by
an older nasearch), and the reader rebuilds it with one log line (:func:`discard`) instead of using
it. ``nasearch data --verify`` runs :func:`verify_cache` over the whole folder. A file that passed
its check in this process is not hashed again while its size and mtime stay the same.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nasearch.data.manifest import sha256_of

SUFFIX = ".sha256"
#: (path, size, mtime_ns) of entries that matched their record in this process
_checked: set[tuple[str, int, int]] = set()


def sidecar(path: Path) -> Path:
    """Where the content check of cache entry ``path`` is recorded."""
    return path.with_name(path.name + SUFFIX)


def record(path: Path, digest: str | None = None) -> None:
    """Record the sha256 of cache entry ``path`` (computed unless given), written whole."""
    value = digest or sha256_of(path)
    side = sidecar(path)
    tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    tmp.write_text(value + "\n", encoding="ascii")
    os.replace(tmp, side)
    _remember(path)


def write_npz(path: Path, arrays: Mapping[str, Any]) -> None:
    """Write cache entry ``path`` as a plain ``.npz`` of ``arrays`` atomically (a temporary file renamed
    into place, so parallel writers never clash) and record its sha256."""
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp.npz", dir=path.parent)
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        record(path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path), st.st_size, st.st_mtime_ns)


def _remember(path: Path) -> None:
    try:
        _checked.add(_key(path))
    except OSError:
        pass


def problem(path: Path, expected: str | None = None, again: bool = False) -> str | None:
    """None when cache entry ``path`` matches its recorded sha256 (and ``expected``, when given),
    else what is wrong, in a few words. ``again``: hash it even if it passed in this process."""
    try:
        if not again and _key(path) in _checked:
            return None
        recorded = sidecar(path).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return "no content check recorded" if path.exists() else "missing"
    except (OSError, UnicodeDecodeError) as exc:
        return f"its content check cannot be read ({exc})"
    if expected is not None and recorded != expected:
        return "its recorded sha256 is not the expected one"
    try:
        actual = sha256_of(path)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if actual != recorded:
        return "content differs from its recorded sha256"
    _remember(path)
    return None


def discard(path: Path, message: str, log: Callable[[str], None] | None = None) -> None:
    """Remove a damaged cache entry and its record (it is rebuilt next), and log ``message``:
    the one line that says so."""
    for p in (path, sidecar(path)):
        try:
            p.unlink()
        except OSError:
            pass  # gone already, or the writer replaces it in place anyway
    (log or (lambda m: print(m, file=sys.stderr, flush=True)))(f"nasearch: {message}")


def entries(root: Path) -> list[Path]:
    """Every cache entry under ``root``: files other than content records and temporary files."""
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.rglob("*")):
        if (
            p.is_file()
            and not p.name.endswith(SUFFIX)
            and ".tmp" not in p.name
            and not p.name.startswith(".")
        ):
            out.append(p)
    return out


def verify_cache(root: Path) -> list[tuple[Path, str]]:
    """Check every entry under ``root`` against its recorded sha256 (hashing it again); the
    damaged ones with what is wrong."""
    bad = []
    for path in entries(root):
        what = problem(path, again=True)
        if what is not None:
            bad.append((path, what))
    return bad


__all__ = ["SUFFIX", "sidecar", "record", "write_npz", "problem", "discard", "entries", "verify_cache"]
