"""Per-cell training checkpoints, so a multi-fidelity promotion trains only the missing epochs.

One file per cell, ``<folder>/<sha256(key)[:24]>.pt``: a magic line, the sha256 of the payload, then
the payload (``torch.save`` of a dict of tensors and plain data, read back with ``weights_only``).
Files are written whole (temp file + rename, ``nasearch.data.safeio``); on reading, a file that is
truncated, altered, unreadable, or belongs to another cell or other training options is never used:
``load`` logs one warning line naming it, deletes it, and returns None (the caller trains from
scratch, which costs time but never gives wrong numbers).
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path
from typing import Any

import torch

from nasearch.data.safeio import make_dir, write_bytes

log = logging.getLogger("nasearch.checkpoints")

MAGIC = b"nasearch-checkpoint-1\n"
_DIGEST = 32  # sha256 bytes


def checkpoint_path(folder: Path, key: str) -> Path:
    """Where the checkpoint of cell ``key`` lives (a hash: cell keys hold characters unfit for file names)."""
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.pt"


def save(folder: Path, key: str, state: dict[str, Any]) -> Path:
    """Write ``state`` (it must hold ``key`` and ``identity``) as the checkpoint of ``key``, whole or not at all."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    make_dir(folder)
    path = checkpoint_path(folder, key)
    write_bytes(path, MAGIC + hashlib.sha256(payload).digest() + payload)
    return path


def load(folder: Path, key: str, identity: str) -> dict[str, Any] | None:
    """The checkpoint of ``key`` trained under ``identity``, or None (no file, or a damaged or foreign
    one: logged once and removed)."""
    path = checkpoint_path(folder, key)
    if not path.exists():
        return None
    problem = ""
    state: dict[str, Any] | None = None
    try:
        data = path.read_bytes()
        head, digest, payload = (
            data[: len(MAGIC)],
            data[len(MAGIC) : len(MAGIC) + _DIGEST],
            data[len(MAGIC) + _DIGEST :],
        )
        if head != MAGIC or len(digest) != _DIGEST:
            problem = "not a nasearch checkpoint (truncated?)"
        elif hashlib.sha256(payload).digest() != digest:
            problem = "its checksum does not match (truncated or altered)"
        else:
            loaded = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
            if not isinstance(loaded, dict) or loaded.get("key") != key:
                problem = "it belongs to another cell"
            elif loaded.get("identity") != identity:
                problem = "it was trained with other training options"
            else:
                state = loaded
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported and not used
        problem = f"unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    if state is None:
        log.warning(
            "checkpoint %s of cell %s is not used: %s; training the cell from scratch", path, key, problem
        )
        path.unlink(missing_ok=True)
    return state


def remove(folder: Path, key: str) -> None:
    """Delete the checkpoint of ``key`` (its training reached the full fidelity: nothing continues it)."""
    checkpoint_path(folder, key).unlink(missing_ok=True)
