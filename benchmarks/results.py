"""The results store: each BENCHMARKS.md section's figures as one JSON file under ``benchmarks/results/``.

BENCHMARKS.md is rendered from these files (``python -m benchmarks.render``), never parsed: a script
writes its section's file (``report.write_section``), and readers (the README headline,
``select_defaults --rebuild-json``) read the files. A section file holds:

- ``section``: its name (the ``<!-- begin NAME -->`` marker BENCHMARKS.md shows);
- ``blocks``: the section's content in order, each ``{"text": "..."}`` (prose, headings, notes) or
  ``{"table": {"headers": [...], "rows": [[...], ...]}}`` (cells as numbers or strings; a float is
  printed as ``report.markdown_table`` prints it);
- ``notes``: lines put under the section's heading after it was written (``report.mark_sections``);
- ``measured`` / ``written``: the commit(s) the figures were measured at and the commit the section was
  written at (None outside a git checkout), rendered as the section's closing stamp;
- ``data`` (optional): what a reader needs beyond the tables (``select_defaults``: its whole result; a
  search section: ``searched_on`` and ``first_seed``; the zero-shot latency section: ``default_estimator``).

``index.json`` holds the text above the first section and the order of the sections. A file that is
not valid JSON or lacks a field is refused with one error naming it (``DamagedResults``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
INDEX = "index.json"

Cell = str | int | float | None


class DamagedResults(SystemExit):
    """A results file that cannot be read as a section (or index): named, never used silently."""


def fmt(value: object) -> str:
    """A table cell as BENCHMARKS.md prints it: floats to 3 decimals (thousands grouped from 1000)."""
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table_lines(headers: Sequence[object], rows: Sequence[Sequence[object]]) -> list[str]:
    """A GitHub markdown table's lines."""
    lines = ["| " + " | ".join(str(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]


@dataclass
class Table:
    """One table of a section: headers and rows of raw cells."""

    headers: list[str]
    rows: list[list[Cell]]

    def markdown(self) -> str:
        return "\n".join(table_lines(self.headers, self.rows))

    def records(self) -> list[dict[str, str]]:
        """The rows as header -> cell, each cell as printed."""
        return [dict(zip(self.headers, (fmt(v) for v in row))) for row in self.rows]


Block = str | Table


@dataclass
class Section:
    """One section of BENCHMARKS.md as stored."""

    name: str
    blocks: list[Block]
    notes: list[str] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)
    written: str | None = None
    data: dict[str, Any] | None = None

    def markdown(self) -> str:
        """The text between the section's markers."""
        body = "\n".join(b.markdown() if isinstance(b, Table) else b for b in self.blocks).strip()
        if self.notes:
            heading, _, rest = body.partition("\n")
            body = heading + "\n" + "".join(f"\n{n}\n" for n in self.notes) + rest
        if self.written is not None:
            commits = ", ".join(f"`{c}`" for c in self.measured)
            stamp = f"_Measured at commit(s) {commits}; " if self.measured else "_"
            body = f"{body.rstrip()}\n\n{stamp}section written at commit `{self.written}`._"
        return body

    def tables(self) -> Iterator[tuple[str, Table]]:
        """Each table with the text of the blocks since the previous table (its title paragraph)."""
        before: list[str] = []
        for block in self.blocks:
            if isinstance(block, Table):
                yield "\n".join(before), block
                before = []
            else:
                before.append(block)

    def table(self, first_header: str, has_column: str) -> list[dict[str, str]]:
        """The rows of the first table whose first header is ``first_header`` and which has ``has_column``."""
        for _, t in self.tables():
            if t.headers and t.headers[0] == first_header and has_column in t.headers:
                return t.records()
        raise ValueError(
            f"section {self.name!r} has no table with columns {first_header!r} ... {has_column!r}"
        )

    def titled_table(self, title: str) -> list[dict[str, str]]:
        """The rows of the first table after the paragraph that opens with ``**title**``."""
        seen = False
        for block in self.blocks:
            if isinstance(block, Table):
                if seen:
                    return block.records()
            elif f"**{title}**" in block:
                seen = True
        raise ValueError(f"section {self.name!r} has no table titled {title!r}")

    def to_json(self) -> dict[str, Any]:
        blocks = [
            {"table": {"headers": b.headers, "rows": b.rows}} if isinstance(b, Table) else {"text": b}
            for b in self.blocks
        ]
        out: dict[str, Any] = {
            "section": self.name,
            "blocks": blocks,
            "notes": self.notes,
            "measured": self.measured,
            "written": self.written,
        }
        if self.data is not None:
            out["data"] = self.data
        return out


def file_of(name: str, root: Path = RESULTS_DIR) -> Path:
    """Where section ``name`` is stored (``:`` in a name becomes ``__``: a portable file name)."""
    return root / f"{name.replace(':', '__')}.json"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DamagedResults(f"{path}: no such results file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DamagedResults(f"{path}: damaged results file, not valid JSON ({err})") from None


def _section_of(raw: Any, path: Path) -> Section:
    """A section from its decoded JSON, every field's type checked."""

    def bad(what: str) -> DamagedResults:
        return DamagedResults(f"{path}: damaged results file: {what}")

    if not isinstance(raw, dict):
        raise bad("not a JSON object")
    name, blocks = raw.get("section"), raw.get("blocks")
    if not isinstance(name, str) or not isinstance(blocks, list):
        raise bad("'section' (a string) and 'blocks' (a list) are required")
    out: list[Block] = []
    for i, b in enumerate(blocks):
        if isinstance(b, dict) and isinstance(b.get("text"), str) and len(b) == 1:
            out.append(b["text"])
        elif (
            isinstance(b, dict)
            and len(b) == 1
            and isinstance(b.get("table"), dict)
            and isinstance(b["table"].get("headers"), list)
            and isinstance(b["table"].get("rows"), list)
            and all(isinstance(r, list) and len(r) == len(b["table"]["headers"]) for r in b["table"]["rows"])
        ):
            out.append(Table([str(h) for h in b["table"]["headers"]], b["table"]["rows"]))
        else:
            raise bad(f"block {i} is neither {{'text': str}} nor a table whose rows match its headers")
    notes, measured, written = raw.get("notes", []), raw.get("measured", []), raw.get("written")
    if not (isinstance(notes, list) and all(isinstance(n, str) for n in notes)):
        raise bad("'notes' must be a list of strings")
    if not (isinstance(measured, list) and all(isinstance(c, str) for c in measured)):
        raise bad("'measured' must be a list of commits")
    if written is not None and not isinstance(written, str):
        raise bad("'written' must be a commit or null")
    data = raw.get("data")
    if data is not None and not isinstance(data, dict):
        raise bad("'data' must be an object")
    return Section(name, out, notes, measured, written, data)


class Store:
    """The section files of one results folder."""

    def __init__(self, root: Path = RESULTS_DIR) -> None:
        self.root = Path(root)

    def index(self) -> dict[str, Any]:
        """``{"preamble": str, "sections": [names in order]}`` (an empty store: the default header)."""
        path = self.root / INDEX
        if not path.exists():
            return {"preamble": DEFAULT_PREAMBLE, "sections": []}
        raw = _read_json(path)
        if not (
            isinstance(raw, dict)
            and isinstance(raw.get("preamble"), str)
            and isinstance(raw.get("sections"), list)
            and all(isinstance(s, str) for s in raw["sections"])
        ):
            raise DamagedResults(
                f"{path}: damaged results index: needs 'preamble' (a string) and 'sections' (a list of names)"
            )
        return raw

    def names(self) -> list[str]:
        return list(self.index()["sections"])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def load(self, name: str) -> Section:
        """Section ``name`` (``KeyError``-like ``ValueError`` when the store has none)."""
        if name not in self:
            raise ValueError(f"the results store {self.root} has no section {name!r}")
        path = file_of(name, self.root)
        section = _section_of(_read_json(path), path)
        if section.name != name:
            raise DamagedResults(
                f"{path}: damaged results file: it holds section {section.name!r}, not {name!r}"
            )
        return section

    def save(self, section: Section) -> Path:
        """Write ``section``'s file (and add it to the index, last, when new)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = file_of(section.name, self.root)
        _write(path, section.to_json())
        index = self.index()
        if section.name not in index["sections"]:
            index["sections"].append(section.name)
            _write(self.root / INDEX, index)
        return path

    def render(self) -> str:
        """BENCHMARKS.md: the preamble, then every section between its markers."""
        index = self.index()
        blocks = [
            f"<!-- begin {n} -->\n{self.load(n).markdown()}\n<!-- end {n} -->" for n in index["sections"]
        ]
        return "\n\n".join([index["preamble"].rstrip("\n"), *blocks]) + "\n"


#: the text above the sections of a new BENCHMARKS.md
DEFAULT_PREAMBLE = (
    "# Benchmarks\n\nEvery figure here was printed by a script in `benchmarks/`; "
    "rerun it to refresh its section.\n"
)


def _write(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(_dumps(payload) + "\n")
    tmp.replace(path)


def _dumps(value: Any, depth: int = 0) -> str:
    """JSON, indented, with each list of plain values (a table row, a header) on one line: a rerun's
    diff shows the rows that changed."""
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_dumps(v, depth + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(inner + _dumps(v, depth + 1) for v in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def blocks_of(markdown: str) -> list[Block]:
    """``markdown`` as blocks: each run of lines that is exactly a GitHub table (header, ``|---|`` rule,
    rows of as many cells, printed as ``table_lines`` prints them) becomes a ``Table`` of string cells;
    everything else stays text. Rendering the blocks gives ``markdown`` back byte for byte."""
    lines = markdown.split("\n")
    out: list[Block] = []
    text: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].startswith("|"):
            j += 1
        table = _as_table(lines[i:j]) if j > i else None
        if table is None:
            text.append(lines[i])
            i += 1
            continue
        if text:
            out.append("\n".join(text))
            text = []
        out.append(table)
        i = j
    if text:
        out.append("\n".join(text))
    return out


def _as_table(lines: list[str]) -> Table | None:
    if len(lines) < 2:
        return None
    headers = _cells(lines[0])
    if headers is None or lines[1] != "|" + "---|" * len(headers):
        return None
    rows = [_cells(line) for line in lines[2:]]
    if any(r is None or len(r) != len(headers) for r in rows):
        return None
    table = Table(headers, [list(r) for r in rows if r is not None])
    return table if table.markdown() == "\n".join(lines) else None


def _cells(line: str) -> list[str] | None:
    if not (line.startswith("| ") and line.endswith(" |")):
        return None
    return line[2:-2].split(" | ")
