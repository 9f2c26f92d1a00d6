"""I/O and storage failures as one line with the real cause (read-only, corrupt, full, missing).

Optuna wraps every failed commit in ``StorageInternalError("... e.g. exceeding max length")``
whatever the cause; ``cause`` digs out the database's own message (``attempt to write a readonly
database``, ``database or disk is full``, ``file is not a database``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from nasearch.api.errors import NasearchError, StorageError


def cause(exc: BaseException) -> str:
    """The innermost cause of ``exc`` as ``Type: message``, one line."""
    seen: set[int] = set()
    root: BaseException = exc
    while id(root) not in seen:
        seen.add(id(root))
        orig = getattr(root, "orig", None)  # SQLAlchemy's DBAPIError: the driver's own exception
        nxt = orig if isinstance(orig, BaseException) else (root.__cause__ or root.__context__)
        if nxt is None:
            break
        root = nxt
    if isinstance(root, OSError) and root.strerror:  # the system's words say it all
        return f"{root.strerror}" + (f": {str(root.filename)!r}" if root.filename else "")
    text = str(root).strip().splitlines()[0] if str(root).strip() else ""
    return f"{type(root).__name__}: {text}" if text else type(root).__name__


def _is_storage_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    module = type(exc).__module__ or ""
    return module.startswith(("sqlalchemy", "sqlite3", "optuna.exceptions", "optuna.storages")) or (
        type(exc).__name__ in ("StorageInternalError", "OperationalError", "DatabaseError")
    )


@contextlib.contextmanager
def storage_errors(where: str, action: str) -> Iterator[None]:
    """Turn a storage or file-system failure inside the block into one StorageError line:
    ``cannot <action> <where>: <cause>``. nasearch's own errors pass through."""
    try:
        yield
    except NasearchError:
        raise
    except Exception as exc:  # noqa: BLE001 - filtered just below
        if not _is_storage_failure(exc):
            raise
        raise StorageError(f"cannot {action} {where}: {cause(exc)}") from exc


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a run-folder file whole (temp file + rename), or one StorageError line."""
    write_bytes(path, text.encode())


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a file whole (temp file + rename), or one StorageError line; a failed write (a full
    disk) leaves the previous file as it was and no temporary file behind."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    with storage_errors(repr(str(p)), "write"):
        try:
            tmp.write_bytes(data)
            os.replace(tmp, p)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def make_dir(path: str | os.PathLike[str]) -> None:
    """``mkdir -p``, or one StorageError line."""
    with storage_errors(f"run folder {str(path)!r}", "create"):
        Path(path).mkdir(parents=True, exist_ok=True)


__all__ = ["cause", "storage_errors", "write_text", "write_bytes", "make_dir"]
