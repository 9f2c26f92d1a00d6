"""The small CLI commands: ``spaces`` (what is registered), ``query`` (a cell's record), ``data``."""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from nasearch.data import data_dir
from nasearch.errors import NasearchError
from nasearch.options import accepted_options
from nasearch.registry import ALL_REGISTRIES, SEARCH_SPACES
from search_spaces.base import describe_capabilities

#: modules whose ``TABLES`` dict (name -> object with ``path`` and ``source``) lists data files
DATA_MODULES = ("search_spaces.nasbench201.benchmark", "search_spaces.nasbench101.benchmark")


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
    if not callable(getattr(space, "benchmark", None)):
        raise NasearchError(f"search space {args.space!r} has no benchmark table to query")
    arch = space.parse(args.arch)
    record = space.benchmark().record(arch)
    print(json.dumps(record, indent=2, default=_json_default))
    return 0


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def cli_data(args: argparse.Namespace) -> int:
    """List each known table: present or missing, its size, and where it comes from."""
    root = data_dir(args.data_dir)
    print(f"data folder: {root}")
    missing = 0
    for module_name in DATA_MODULES:
        try:
            tables = importlib.import_module(module_name).TABLES
        except (ImportError, AttributeError):
            continue
        for table in tables.values():
            path = Path(root) / table.path
            if path.is_file():
                print(f"  ok       {table.path}  ({path.stat().st_size / 1e6:.1f} MB)")
            elif getattr(table, "optional", False):
                print(f"  optional {table.path}  <- {table.source}")
            else:
                missing += 1
                print(f"  MISSING  {table.path}  <- {table.source}")
    if missing:
        print(f"{missing} table(s) missing: the metrics that need them raise a clear error when asked for.")
    return 0

