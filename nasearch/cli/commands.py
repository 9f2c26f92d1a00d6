"""The small CLI commands: ``spaces`` (what is registered), ``query`` (a cell's record), ``data``."""

from __future__ import annotations

import argparse
import hashlib
import json
from typing import Any

from nasearch.api import OfficialFiles, describe_capabilities, has_capability
from nasearch.api.errors import NasearchError, suggest
from nasearch.config.options import accepted_options
from nasearch.config.registry import ALL_REGISTRIES, SEARCH_SPACES
from nasearch.data import cache_check
from nasearch.data import manifest as data_manifest
from nasearch.data.fetch import OfficialFile, fetch
from nasearch.data.manifest import count_rows, load_manifest, read_table_bytes, verify
from nasearch.data.sources import DataSources, cache_dir


def cli_spaces(args: argparse.Namespace) -> int:
    """Print every registered name of each registry and where it comes from."""
    kinds = [args.kind] if args.kind else list(ALL_REGISTRIES)
    for kind in kinds:
        print(f"{kind}:")
        for name, source in ALL_REGISTRIES[kind].sources().items():
            extra = _space_capabilities(name) if kind == "search_spaces" else ""
            print(f"  {name:<22} {source}{extra}")
    return 0


def _space_capabilities(name: str) -> str:
    """The optional capabilities a space class offers, e.g. ``  [neighbours, network, benchmark]``."""
    try:
        caps = describe_capabilities(SEARCH_SPACES.get(name))
    except NasearchError as exc:
        return f"  (cannot load: {exc})"
    return "  [" + ", ".join(cap for cap, present in caps.items() if present) + "]"


def make_space(name: str, data_dir_arg: str | None = None) -> Any:
    """Instantiate a registered space, passing the data folder where the space takes one."""
    factory = SEARCH_SPACES.get(name)
    named, _ = accepted_options(factory)
    return factory(data_dir=data_dir_arg) if "data_dir" in named else factory()


def cli_query(args: argparse.Namespace) -> int:
    """Print the benchmark record of one cell as JSON."""
    space = make_space(args.space, args.data_dir)
    if not has_capability(space, "benchmark"):
        raise NasearchError(f"search space {args.space!r} has no benchmark table to query")
    arch = space.parse(args.arch)
    record = space.benchmark().record(arch)
    print(json.dumps(record, indent=2, default=_json_default))
    return 0


def _json_default(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def official_files() -> dict[str, OfficialFile]:
    """Every official large file the registered search spaces know (``OfficialFiles``), by fetch name.
    A plug-in that fails to load is left out of this listing (``nasearch spaces`` names its error)."""
    out: dict[str, OfficialFile] = {}
    for name in SEARCH_SPACES.names():
        try:
            space = SEARCH_SPACES.get(name)
        except NasearchError:
            continue
        if isinstance(space, OfficialFiles):
            out.update(space.official_files())
    return out


def cli_data(args: argparse.Namespace) -> int:
    """``nasearch data [--verify]``: where each table comes from; ``nasearch data fetch NAME``."""
    sources = DataSources(args.data_dir)
    if args.action == "fetch":
        return _fetch(args, sources)
    if args.action is not None:
        raise NasearchError(f"unknown data action {args.action!r}; did you mean 'fetch'?")
    order = [str(folder) for folder, _ in sources.folders] + [
        f"embedded tables ({data_manifest.EMBEDDED_DIR})"
    ]
    print(f"lookup order: {' -> '.join(order)}")
    bad = 0
    manifest = load_manifest()
    problems = {p.file: p.what for p in verify()} if args.verify else {}
    for name, entry in manifest.items():
        found = sources.find(name)
        assert found is not None  # the embedded copy is always there to fall back on
        content = None if found.embedded else read_table_bytes(found.path)
        rows = entry.rows if content is None else count_rows(content, name)
        status = "ok"
        if args.verify and found.embedded and entry.stored in problems:
            status, bad = f"FAILED: {problems[entry.stored]}", bad + 1
        elif args.verify and content is not None:
            same = hashlib.sha256(content).hexdigest() == entry.content_sha256
            status = "ok, same as embedded" if same else "ok, overrides the embedded table"
        where = "embedded" if found.embedded else f"data folder {found.origin}"
        print(
            f"  {name:<60} {rows:>7} rows  {where}  [{entry.license}] {entry.source}"
            + (f"  {status}" if args.verify else "")
        )
    for file in official_files().values():
        path = sources.find_official(file.path)
        if path is None:
            print(
                f"  {file.path:<60} (optional, absent: `nasearch data fetch {file.name}`)  [{file.license}] "
                f"{file.source}"
            )
            continue
        status = ""
        if args.verify:
            problem = file.check(path)
            status = "  ok" if problem is None else f"  FAILED: {problem}"
            bad += problem is not None
        print(f"  {file.path:<60} present in {path.parent}  [{file.license}] {file.source}{status}")
    if args.verify:
        bad += _verify_cache()
        print("all checksums match" if not bad else f"{bad} file(s) failed their checksum")
    return 1 if bad else 0


def _verify_cache() -> int:
    """Check every cache entry (decompressed tables, derived indexes) against the sha256 recorded
    when it was written; remove the damaged ones (rebuilt on next use). Returns how many failed."""
    try:
        root = cache_dir()
    except NasearchError:
        print("  cache: no writable cache folder (nothing cached)")
        return 0
    entries = cache_check.entries(root)
    damaged = cache_check.verify_cache(root)
    for path, why in damaged:
        cache_check.discard(
            path, f"removed the damaged cache entry {str(path)!r} (rebuilt on next use)", log=lambda _m: None
        )
        print(f"  cache {str(path.relative_to(root)):<54} FAILED: {why}; removed (rebuilt on next use)")
    print(
        f"  cache {root}: {len(entries)} entries, {len(entries) - len(damaged)} match their recorded sha256"
    )
    return len(damaged)


def _fetch(args: argparse.Namespace, sources: DataSources) -> int:
    files = official_files()
    if not args.name or args.name not in files:
        hint = suggest(args.name, files, n=3) if args.name else ""
        raise NasearchError(f"fetch needs one of: {', '.join(files)}{hint}")
    folder = sources.first_folder()
    if folder is None:
        raise NasearchError("fetch needs a data folder to write to: --data-dir DIR or NASEARCH_DATA=DIR")
    path = fetch(files[args.name], folder, url=args.url, progress=not args.no_progress)
    print(
        f"{args.name}: {path} (checksum verified)"
        if files[args.name].sha256 or files[args.name].md5_suffix
        else f"{args.name}: {path} (no published checksum to verify)"
    )
    return 0
