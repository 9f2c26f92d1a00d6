"""Where the benchmark tables come from, and reading them with errors that name the file and its source.

A table is looked up, file by file, in: the config's ``data_dir`` (or ``--data-dir``), then the
folder named by ``NASEARCH_DATA``, then the tables embedded in the package (``nasearch/tables``,
see :mod:`nasearch.data.manifest`). A data folder therefore adds or overrides tables; the large
official files (NAS-Bench-201 ``.pth``, NAS-Bench-101 ``.tfrecord``) only ever come from a data
folder. Each folder may hold a table plain or gzip-compressed. Tables are plain CSV/JSON; nothing
here unpickles.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasearch.api.errors import DataError
from nasearch.data import cache_check
from nasearch.data import manifest as data_manifest
from nasearch.data.manifest import EmbeddedTable, load_manifest, stored_name

ENV_VAR = "NASEARCH_DATA"
EMBEDDED = "embedded"

HOW_TO_GET = (
    "the compact tables ship inside nasearch (`nasearch data` lists them); put a table of your own, "
    "or an official file, in a data folder named by the config key data_dir or NASEARCH_DATA "
    "(`nasearch data fetch NAME` downloads the official ones)"
)


@dataclass(frozen=True)
class Located:
    """A table file that was found, and where: a data folder's path or ``"embedded"``."""

    path: Path
    origin: str

    @property
    def embedded(self) -> bool:
        return self.origin == EMBEDDED


def _canonical(relative: str) -> str:
    return relative[:-3] if relative.endswith(".gz") else relative


class DataSources:
    """The ordered folders tables are looked up in: ``data_dir``, ``$NASEARCH_DATA``, the package.

    A folder that is named but does not exist is an error (a typo should not silently fall back
    to the embedded tables).
    """

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.folders: list[tuple[Path, str]] = []
        for raw, label in ((data_dir, "data_dir"), (os.environ.get(ENV_VAR) or None, ENV_VAR)):
            if raw is None:
                continue
            path = Path(raw).expanduser()
            if not path.is_dir():
                raise DataError(f"benchmark data folder {str(path)!r} (from {label}) does not exist")
            if path.resolve() != data_manifest.EMBEDDED_DIR.resolve() and path not in [
                f for f, _ in self.folders
            ]:
                self.folders.append((path, label))

    def __repr__(self) -> str:
        return f"DataSources({[str(f) for f, _ in self.folders] + [EMBEDDED]})"

    def find(self, relative: str) -> Located | None:
        """The first copy of table ``relative`` (plain or ``.gz``) in the lookup order, or None."""
        name = _canonical(relative)
        for folder, _ in self.folders:
            for candidate in (folder / name, folder / stored_name(name)):
                if candidate.is_file():
                    return Located(candidate, str(folder))
        root = data_manifest.EMBEDDED_DIR
        entry = load_manifest(root).get(name)
        if entry is not None and (root / entry.stored).is_file():
            return Located(root / entry.stored, EMBEDDED)
        return None

    def require(self, relative: str, source: str) -> Located:
        """Like :meth:`find`, or a DataError naming the table, where it comes from and where we looked.

        An embedded table is decompressed once into the cache folder (checked against the
        manifest's sha256 first, so a damaged install is one clear error rather than wrong
        numbers); later loads read the plain copy, as fast as a plain CSV in a data folder.
        """
        found = self.find(relative)
        if found is None:
            looked = ", ".join([str(f) for f, _ in self.folders] + ["the embedded tables"])
            raise DataError(
                f"missing benchmark table {relative!r} (looked in {looked}); it comes from {source}. {HOW_TO_GET}"
            )
        if found.embedded:
            return Located(_decompressed(load_manifest()[_canonical(relative)]), EMBEDDED)
        return found

    def find_official(self, relative: str) -> Path | None:
        """An official large file in a data folder (never embedded), or None."""
        for folder, _ in self.folders:
            if (folder / relative).is_file():
                return folder / relative
        return None

    def first_folder(self) -> Path | None:
        """Where downloads go: the first named data folder, if any."""
        return self.folders[0][0] if self.folders else None


def _decompressed(entry: EmbeddedTable) -> Path:
    """The plain copy of an embedded table in the cache folder, made (and checked) on first use.

    Keyed by the content's sha256, so tables of two nasearch versions never mix. The copy's sha256
    is recorded beside it and checked on every first read in a process (``nasearch.data.cache_check``):
    a damaged copy is rebuilt with one log line, never used. Where no cache folder can be written,
    the compressed file itself is returned (read a little slower).
    """
    stored = data_manifest.EMBEDDED_DIR / entry.stored
    try:
        target = cache_dir() / "tables" / entry.content_sha256[:16] / Path(entry.path).name
    except DataError:
        target = None
    if target is not None and target.is_file():
        why = cache_check.problem(target, entry.content_sha256)
        if why is None:
            return target
        cache_check.discard(
            target, f"the cached table {str(target)!r} is damaged ({why}); rebuilt from the package"
        )
    raw = stored.read_bytes()
    if hashlib.sha256(raw).hexdigest() != entry.sha256:
        raise DataError(
            f"embedded table {str(stored)!r} fails its checksum (damaged install?); "
            "`nasearch data --verify` checks all of them; reinstall nasearch"
        )
    if target is None:
        return stored
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        content = zlib.decompress(raw, wbits=31)  # one shot: twice as fast as streaming gzip
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, target)
        cache_check.record(target, hashlib.sha256(content).hexdigest())
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)  # a full or read-only cache leaves nothing half-written behind
        return stored
    return target


def read_csv(path: Path, required_columns: list[str], **kwargs: Any) -> Any:
    """Read a CSV (plain or .gz) with pandas; any parse failure or missing column becomes one DataError."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - pandas raises many types; the user needs one message
        raise DataError(f"cannot read benchmark table {str(path)!r}: {type(exc).__name__}: {exc}") from None
    missing = [c for c in required_columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"benchmark table {str(path)!r} lacks column(s) {', '.join(missing)} "
            f"(has: {', '.join(map(str, frame.columns[:12]))}); is it the right or a corrupted file?"
        )
    return frame


def read_json(path: Path) -> Any:
    """Read a JSON table (plain or .gz) as one DataError on failure."""
    try:
        with (
            gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")
        ) as handle:
            return json.load(handle)
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"cannot read benchmark table {str(path)!r}: {type(exc).__name__}: {exc}") from None


def load_json_table(relative: str, source: str, data_dir: str | os.PathLike[str] | None = None) -> Any:
    """A JSON table by its name, looked up in the usual order."""
    return read_json(DataSources(data_dir).require(relative, source).path)


def cache_dir() -> Path:
    """The user's cache folder for derived indexes (``$NASEARCH_CACHE`` or ``~/.cache/nasearch``)."""
    raw = os.environ.get("NASEARCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nasearch"
    )
    path = Path(raw)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the cache folder {str(path)!r} ({exc}); set NASEARCH_CACHE to a writable folder"
        ) from None
    return path
