"""One-off migration (#28): BENCHMARKS.md's sections, as they were when it was its own database, into
the results store (``benchmarks/results/``). Not a runtime path: nothing else reads BENCHMARKS.md.

    python -m benchmarks.migrate_results            # writes benchmarks/results/*.json, then checks
                                                    # that rendering them gives BENCHMARKS.md byte for byte

Every figure is kept as printed (table cells as strings); a section's closing stamp becomes its
``measured`` / ``written`` commits, the notes put under its heading become ``notes``, and what scripts
now record under ``data`` is read once from the text: each ``select_defaults:*`` section's selection
result (``data.result``, what ``select_defaults --rebuild-json`` reads), each search section's searched
column and first seed, the zero-shot latency section's default estimator (what the README headline
reads). It refuses to write when the render would differ.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

from benchmarks.defaults.legacy import result_from_section
from benchmarks.report import BENCHMARKS_MD, LEGACY_LINE, POPULATION_SD_NOTE
from benchmarks.results import INDEX, RESULTS_DIR, Section, Store, _write, blocks_of

MARKER = re.compile(r"<!-- begin (\S+) -->\n(.*?)\n<!-- end \1 -->", re.S)
STAMP = re.compile(
    r"\n\n_(?:Measured at commit\(s\) ((?:`[^`]*`(?:, )?)+); |)"
    r"section written at commit `([^`]*)`\._$"
)
LEGACY_NOTE = LEGACY_LINE


def section_of(name: str, body: str) -> Section:
    """One section's stored form, from the text between its markers."""
    measured: list[str] = []
    written = None
    stamp = STAMP.search(body)
    if stamp is not None:
        measured = re.findall(r"`([^`]*)`", stamp[1] or "")
        written = stamp[2]
        body = body[: stamp.start()]
    heading, newline, rest = body.partition("\n")
    notes = []
    while True:
        note = next((n for n in (LEGACY_NOTE, POPULATION_SD_NOTE) if rest.startswith(f"\n{n}\n")), None)
        if note is None:
            break
        notes.append(note)
        rest = rest[len(note) + 2 :]
    section = Section(name, blocks_of(heading + newline + rest), notes, measured, written)
    if name.startswith("select_defaults:") and "defaults selected on" in heading:
        # a selection's section (a rescoring, ``--from-section``, came after the store: never migrated)
        section.data = {"result": result_from_section(section.markdown())}
    elif name.startswith("optimizers_"):
        section.data = search_facts(section.markdown())
    elif name == "latency_models_zero_shot":
        match = re.search(r"The default latency model of `hardware_aware` is `([a-z_]+)`", section.markdown())
        if match is None:
            raise SystemExit(f"section {name} does not name the default latency model")
        section.data = {"default_estimator": match[1]}
    return section


def search_facts(text: str) -> dict[str, object]:
    """What ``bench_optimizers`` now records in a section's ``data``, read from its text: the column it
    searched ("validation" or "test") and ``--first-seed`` (None when the command has none)."""
    match = re.search(r"\*\*Searched on (validation|test)", text)
    if match is not None:
        test = match[1] == "test"
    else:  # sections rendered before the line existed name their metric
        metric = re.search(r"Search metric `([^`]+)`", text)
        test = metric is None or "test" in metric[1].rsplit("/", 1)[-1]
    first = re.search(r"--first-seed (\d+)", text)
    return {"searched_on": "test" if test else "validation", "first_seed": int(first[1]) if first else None}


def migrate(source: Path = BENCHMARKS_MD, root: Path = RESULTS_DIR) -> list[str]:
    """Store every section of ``source`` under ``root``; refuse (nothing written) unless the store
    renders ``source`` exactly. Returns the section names."""
    text = source.read_text()
    first = text.index("<!-- begin ")
    sections = [section_of(m[1], m[2]) for m in MARKER.finditer(text)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        _write(Path(tmp) / INDEX, {"preamble": text[:first].rstrip("\n") + "\n", "sections": []})
        for s in sections:
            store.save(s)
        if store.render() != text:
            raise SystemExit(f"refusing to migrate: the store would not render {source} byte for byte")
        root.mkdir(parents=True, exist_ok=True)
        for path in Path(tmp).iterdir():
            shutil.copy(path, root / path.name)
    return [s.name for s in sections]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=BENCHMARKS_MD)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    names = migrate(args.source, args.out)
    print(f"{len(names)} sections -> {args.out}; rendering them gives {args.source.name} byte for byte")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
