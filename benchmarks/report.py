"""Write one benchmark's section of BENCHMARKS.md, leaving the other sections as they are.

A section is stored as data (``benchmarks/results/<section>.json``, see ``benchmarks.results``) and
BENCHMARKS.md is rendered from the store (``python -m benchmarks.render``); each script owns its
section's file, so scripts can be rerun independently in any order. On the page a section sits
between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``.

A section is written only from a clean tree: ``write_section`` refuses when a tracked file of the
checkout that holds BENCHMARKS.md has uncommitted changes (BENCHMARKS.md, README.md and the results
store aside), and when a commit it is given as ``measured`` ends in ``-dirty``. It records the
commit(s) of the measurement and the commit the section was written at, so a re-render of old runs
(``--render``) keeps the measurement's commit beside its own. Outside a git checkout (a test's
temporary file) nothing is checked and no commit is recorded.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.results import RESULTS_DIR, Block, Cell, Section, Store, Table, blocks_of

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine_line() -> str:
    """Where and when the figures were measured."""
    import torch

    return (
        f"_Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} with {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, torch {torch.__version__} (CPU)._"
    )


class DirtyTree(SystemExit):
    """A section would record figures from (or be written at) a tree with uncommitted changes."""


def past(until: str | None) -> bool:
    """Whether the UTC clock has reached ``until`` (HH:MM; None: never): where a long benchmark run stops
    starting new seeds (``--until``)."""
    return bool(until) and time.strftime("%H:%M", time.gmtime()) >= str(until)


def head_commit(folder: Path) -> str | None:
    """The 12-digit HEAD commit of the git checkout holding ``folder`` (None outside one)."""
    import subprocess

    out = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=10, check=False
    )
    return out.stdout.strip()[:12] if out.returncode == 0 and out.stdout.strip() else None


def store_for(path: Path = BENCHMARKS_MD) -> Store:
    """The results store BENCHMARKS.md at ``path`` is rendered from (``benchmarks/results`` beside it)."""
    return Store(
        RESULTS_DIR
        if Path(path).resolve() == BENCHMARKS_MD
        else Path(path).resolve().parent / "benchmarks" / "results"
    )


def write_section(
    name: str,
    markdown: str | Sequence[str],
    path: Path = BENCHMARKS_MD,
    measured: Sequence[str] = (),
    data: dict[str, Any] | None = None,
) -> None:
    """Store section ``name`` (``markdown``: its text, or its parts, a ``markdown_table`` part kept as a
    table of raw cells) and render BENCHMARKS.md at ``path`` from the store.

    ``measured``: the commit(s) the figures were measured at (as the runs recorded them); a
    ``-dirty`` one is refused. Inside a git checkout the write is refused (``DirtyTree``, naming the
    files) while a tracked file other than ``path``, README.md and the store's files has uncommitted
    changes, and the section ends with "measured at ..., written at <HEAD>". ``data``: what the script
    reads back from its own section later (kept in the file, not shown)."""
    from benchmarks.freeze import dirty_files

    path = Path(path)
    folder = path.resolve().parent
    store = store_for(path)
    dirty = dirty_files(folder, ignore=(path, folder / "README.md", *store.root.glob("*.json")))
    written: str | None = None
    if dirty is not None:
        if dirty:
            raise DirtyTree(
                f"refusing to write section {name!r} of {path.name} from a dirty tree "
                f"({', '.join(dirty[:5])}): commit first, then rerun or --render"
            )
        stale = [c for c in measured if c.endswith("-dirty")]
        if stale:
            raise DirtyTree(
                f"refusing to write section {name!r}: its figures were measured on a dirty tree "
                f"({', '.join(stale)}); rerun them from a clean commit"
            )
        written = str(head_commit(folder))
    parts = [markdown] if isinstance(markdown, str) else list(markdown)
    blocks: list[Block] = []
    for part in parts:
        blocks += [part.table] if isinstance(part, TableText) else blocks_of(part)
    blocks = _merge_text(blocks)
    # a rewrite replaces the whole section, notes under its heading included
    store.save(Section(name, blocks, [], list(measured) if written else [], written, data))
    path.write_text(store.render())


def _merge_text(blocks: list[Block]) -> list[Block]:
    """Adjacent text blocks as one (joined by a newline, as the page shows them); the first and last
    text stripped as a section's text is."""
    out: list[Block] = []
    for b in blocks:
        if isinstance(b, str) and out and isinstance(out[-1], str):
            out[-1] = out[-1] + "\n" + b
        else:
            out.append(b)
    if out and isinstance(out[0], str):
        out[0] = out[0].lstrip()
    if out and isinstance(out[-1], str):
        out[-1] = out[-1].rstrip()
    while len(out) > 1 and out[0] == "":
        out.pop(0)
    while len(out) > 1 and out[-1] == "":
        out.pop()
    return out or [""]


class TableText(str):
    """A markdown table as text that still knows its headers and raw rows (``write_section`` stores those)."""

    table: Table

    def __new__(cls, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> TableText:
        table = Table([str(h) for h in headers], [[_cell(v) for v in r] for r in rows])
        text = super().__new__(cls, table.markdown())
        text.table = table
        return text


def _cell(value: object) -> Cell:
    """``value`` as a JSON cell printed the same: a float (numpy's float64 included) stays a number; a
    type JSON cannot hold (numpy's int64, float32, ...) is kept as the text the table prints."""
    if value is None or type(value) in (str, int, bool):
        return value  # type: ignore[return-value]
    if isinstance(value, float):
        return float(value)
    return str(value)


def paragraphs(parts: Sequence[str]) -> list[str]:
    """``parts`` with an empty line between each two: as ``write_section`` parts, the page shows
    ``"\\n\\n".join(parts)``, and a ``markdown_table`` part stays a stored table."""
    out: list[str] = []
    for part in parts:
        out += [part, ""]
    return out[:-1]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> TableText:
    """A GitHub markdown table; floats to 3 significant decimals (``results.fmt``). As a part of
    ``write_section``'s list it is stored as a table of raw cells."""
    return TableText(headers, rows)


#: how a table labels rows measured before results.csv recorded options (their settings cannot be
#: checked, and the predictor defaults of that time were chosen by reading test cells)
LEGACY_LABEL = "legacy, options not recorded / selected on test"


#: the note ``mark_legacy`` puts under the heading of such a section
LEGACY_LINE = (
    f"_**{LEGACY_LABEL}**: these rows predate traceable results (no options hash, no commit); "
    "the predictor defaults of that time were chosen on test cells, and the optimizer settings on "
    "the seeds reported. Kept for reference; not the headline._"
)


class OptionsMismatch(SystemExit):
    """Rows whose recorded options differ from the configuration their table names."""


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): value}


def expected_options(
    config: object, specs: dict[str, tuple[str, dict[str, object]]]
) -> dict[str, dict[str, object]]:
    """label -> the options a ``run_compare`` row of ``config`` and that spec records."""
    from nasearch.compare import row_options

    return {label: row_options(config, name, options) for label, (name, options) in specs.items()}  # type: ignore[arg-type]


def check_rows(
    rows: list[dict[str, object]], expected: dict[str, dict[str, object]], source: str
) -> set[str]:
    """Refuse (``OptionsMismatch``, naming the keys that differ) any row whose recorded options
    differ from the configuration its label names in ``expected``; return the labels that have
    rows without recorded options (legacy: the caller labels them ``LEGACY_LABEL``)."""
    import json

    from nasearch.data.provenance import options_hash

    legacy: set[str] = set()
    for row in rows:
        label = str(row["predictor"])
        if label not in expected:
            continue
        recorded = row.get("options_hash")
        if recorded is None or (isinstance(recorded, float) and recorded != recorded) or recorded == "":
            legacy.add(label)
            continue
        want = options_hash(expected[label])
        if str(recorded) != want:
            found = _flat(json.loads(str(row.get("options") or "{}")))
            named = _flat(json.loads(json.dumps(expected[label], default=str)))
            keys = sorted(k for k in set(found) | set(named) if found.get(k) != named.get(k))
            diff = (
                "; ".join(f"{k}: row {found.get(k)!r}, table {named.get(k)!r}" for k in keys[:6])
                or "(same keys)"
            )
            raise OptionsMismatch(
                f"{source}: rows of {label!r} were measured with options {recorded}, but the table names "
                f"{want} ({diff}); rerun them or give them a label of their own"
            )
    return legacy


def mark_legacy(names: list[str], path: Path = BENCHMARKS_MD) -> list[str]:
    """Put the ``LEGACY_LABEL`` line under the heading of each named section (once): their rows were
    rendered before results recorded options. Returns the sections it marked."""
    return mark_sections(names, LEGACY_LINE, path)


#: the note on search sections rendered while ``mean_sd`` printed the population sd
POPULATION_SD_NOTE = (
    "_± sd in this section is the population sd (n) over seeds, as the search tables printed it "
    "before BENCHMARKS.md took one definition (the sample sd, n − 1: multiply by √(n / (n − 1)))._"
)

#: the note on search sections whose surrogate-guided rows were measured before #28 changed the member-seed rule
MEMBER_SEED_NOTE = (
    "_Surrogate-guided rows here (predictor-guided optimizers, Bayesian optimization, the surrogate scheduler) "
    "were measured with the old member-seed rule (`seed·1000 + refit·10 + member`, which collides after 100 "
    "refits). Since #28 (commit a1cfa2e) each member's seed is derived with `numpy.random.SeedSequence`, so a "
    "rerun at a later commit draws other member seeds and its per-seed figures differ; the protocol is "
    "unchanged._"
)


def mark_sections(names: list[str], line: str, path: Path = BENCHMARKS_MD) -> list[str]:
    """Put ``line`` under the heading of each named section, once (a note of its stored file), and
    render BENCHMARKS.md at ``path``. Returns the sections it marked."""
    store = store_for(path)
    marked = []
    for name in names:
        if name not in store:
            raise SystemExit(f"no section {name!r} in {store.root}")
        section = store.load(name)
        if line in section.notes:
            continue
        section.notes.insert(0, line)
        store.save(section)
        marked.append(name)
    path.write_text(store.render())
    return marked


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--member-seeds"]:
        print(
            "marked:",
            ", ".join(mark_sections([n for n in sys.argv[2:] if n], MEMBER_SEED_NOTE)) or "nothing new",
        )
    elif sys.argv[1:2] == ["--population-sd"]:
        print(
            "marked:",
            ", ".join(mark_sections([n for n in sys.argv[2:] if n], POPULATION_SD_NOTE)) or "nothing new",
        )
    else:
        print("marked:", ", ".join(mark_legacy([n for n in sys.argv[1:] if n])) or "nothing new")
