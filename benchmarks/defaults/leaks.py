"""The leak audit of the store: which reported test cells a selection of the settings read (issue #23).

A reported predictor figure is leak-free when no cell that any selection of its space read (the
training and validation cells of every stored ``select_defaults`` run and extra-information choice, at
every size and seed) is in its test set, apart from the figure's own training cells (the paper
protocol's *all cells* column scores those by design; ``Leak.own_training`` counts them).
``reported_splits`` reads, from the stored sections, every test set a figure was scored on (protocol,
training size, fit seed, test subsample); ``audit`` rebuilds each with the registered split protocol
and counts the cells it shares with ``selection_reads``. Not covered: sections that record no split
(``bench_predictors``' tables state their test set, all cells or every cell not trained on, but not
their seeds).

A section superseded by a leak-free one (``SUPERSEDED``) is audited through its successor.

    python -m benchmarks.defaults.leaks          # one line per reported split that holds a read cell
    python -m benchmarks.defaults.leaks --mark   # write each superseded section's note under its heading
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from benchmarks.bench_extra_info import SELECT_SIZE as EXTRA_INFO_SELECT_SIZE
from benchmarks.defaults.protocols import PAPER_BLOCK, TRAIN_METRIC, overlap, selection_cells
from benchmarks.defaults.section import TEST_CELLS
from benchmarks.results import Section, Table
from nasearch.api.errors import ConfigError
from nasearch.compare import CompareConfig, Task, build_task, get_protocol

#: the NB201 extra-information sections (``benchmarks/bench_extra_info.py``, and on the pruned default
#: ``benchmarks/bench_extra_info_nb201.py``): their choices read cells on validation (the first 156 and
#: the next 1024), and their tracks score the cells from ``held_out`` on
EXTRA_INFO_SELECTIONS = (
    "predictors:extra_info_select",
    "predictors:extra_info_input_select",
    "predictors:extra_info_proxies_select",
    "predictors:extra_info_combo_select",
    "predictors:extra_info_nb201_select",
)
EXTRA_INFO_TRACKS = (
    "predictors:extra_info",
    "predictors:extra_info_proxies",
    "predictors:extra_info_pretrained",
    "predictors:extra_info_nb201",
)
#: a section whose reported test sets hold cells a selection read -> the section that re-measured its
#: figures on leak-free test sets. The audit checks the successor in its place; the superseded section
#: stays stored (its selection still read its cells: ``selection_reads`` counts it) and must say, under
#: its heading, which section superseded it (``superseded_note``; ``--mark`` writes that note)
SUPERSEDED = {
    "select_defaults:nnformer_nb201_pruned": "select_defaults:nnformer_nb201_pruned_leak_free",
    "select_defaults:nnformer_nb101": "select_defaults:nnformer_nb101_leak_free",
    # the earlier NB201 extra-information tracks (the 8-node default, test cells from 1180 on): the track
    # rebuilt on the pruned default, test cells from 1493 on
    "predictors:extra_info": "predictors:extra_info_nb201",
    "predictors:extra_info_proxies": "predictors:extra_info_nb201",
    "predictors:extra_info_pretrained": "predictors:extra_info_nb201",
    # LeDG-Former's legacy accuracy rows (all 15,625 cells, seed 0, settings chosen on test cells)
    "ledgformer-accuracy": "select_defaults:ledgformer_nb201",
}
#: the metric each space's selections and figures train on and score
METRICS = {
    "nasbench201": (TRAIN_METRIC, "cifar10/test_accuracy"),
    "nasbench101": ("cifar10/test_accuracy", "cifar10/test_accuracy"),
}


@dataclasses.dataclass(frozen=True)
class ReportedSplit:
    """One test set a stored figure was scored on: rebuilt by ``protocol`` at ``size`` and ``seed``."""

    section: str
    space: str
    protocol: str
    size: int
    seed: int
    #: which of the row's columns: ``all`` (the protocol's test set) or ``unseen`` (less training/validation)
    column: str = "all"
    test_subsample: int | None = None
    #: a held-out protocol's first test cell
    held_out: int = 0
    #: the validation cells the figure's fit read after its training cells (the frozen tables' 1024;
    #: the extra-information tracks read none): a ``paper_held_out`` test set must start past them
    validation_size: int = PAPER_BLOCK

    def cells(self, task: Task) -> np.ndarray:
        """The test cells of this figure, as its protocol draws them from ``task``."""
        return self.split(task)[1]

    def split(self, task: Task) -> tuple[np.ndarray, np.ndarray]:
        """The training and test cells of this figure, as its protocol draws them from ``task``."""
        train_metric, test_metric = METRICS[self.space]
        config = CompareConfig(
            name="audit",
            space=self.space,
            sizes=[self.size],
            predictors={"x": {}},
            protocol=self.protocol,
            train_metric=train_metric,
            test_metric=test_metric,
            validation_size=self.validation_size,
            test_subsample=self.test_subsample,
            protocol_options={"held_out": self.held_out} if self.held_out else {},
        )
        split = next(iter(get_protocol(self.protocol)(task, self.size, self.seed, config)))
        test = np.asarray(split.test, dtype=int)
        if self.column == "unseen" and split.validation is not None:
            test = np.setdiff1d(test, np.concatenate([split.train, split.validation]))
        return np.asarray(split.train, dtype=int), test


@dataclasses.dataclass(frozen=True)
class Leak:
    """A reported split that holds ``shared`` of the ``read`` cells its space's selections read."""

    split: ReportedSplit
    shared: int
    read: int
    n_test: int
    #: of ``shared``, the figure's own training cells (the paper protocol scores them by design)
    own_training: int = 0

    @property
    def beyond_training(self) -> int:
        """The shared cells that are not the figure's own training cells: what a selection leaked."""
        return self.shared - self.own_training

    def line(self) -> str:
        """One line naming the figure and the overlap."""
        s = self.split
        what = f"{s.space}, {s.protocol} protocol, {s.size} cells, seed {s.seed}, {s.column} cells"
        own = f" ({self.own_training:,} of them its own training cells)" if self.own_training else ""
        return f"{s.section}: {what}: {self.shared:,} of {self.n_test:,} test cells read by a selection{own}"


def _result(section: Section) -> dict[str, Any]:
    return dict((section.data or {}).get("result") or {})


def _space(section: Section) -> str:
    """The space a selection ran on: recorded, else named in its command (``--space``), else NB201."""
    result = _result(section)
    named = re.search(r"--space (\S+)", str(result.get("command", "")))
    return str(result.get("space") or (named.group(1) if named else "nasbench201"))


def selection_reads(sections: Iterable[Section], space: str, n_cells: int) -> np.ndarray:
    """Every cell that a stored selection of ``space`` read (training and validation, every size):
    the ``select_defaults`` runs (from their recorded procedure and sizes) and, on NB201, the
    extra-information choices."""
    read: list[np.ndarray] = []
    for section in sections:
        result = _result(section)
        selected = section.name.startswith("select_defaults:") and "frozen_from" not in result
        if selected and _space(section) == space:
            protocol = "validation_block" if result["procedure"] == "validation" else "train_cv"
            read.append(selection_cells(protocol, max(int(n) for n in result["sizes"]), n_cells))
        if section.name in EXTRA_INFO_SELECTIONS and space == "nasbench201":
            read.append(selection_cells("validation_block", EXTRA_INFO_SELECT_SIZE, n_cells))
    return np.unique(np.concatenate(read)) if read else np.zeros(0, dtype=int)


def first_unread(sections: Iterable[Section], space: str, n_cells: int) -> int:
    """The first cell past every cell a stored selection of ``space`` read: the ``held_out`` of a
    held-out protocol whose test set no selection touched (the reads must be the cells before it)."""
    read = selection_reads(sections, space, n_cells)
    if not np.array_equal(read, np.arange(read.size)):
        raise ConfigError(f"the selections of {space} read cells that are not one block from cell 0")
    return int(read.size)


def _seeds(text: str) -> list[int]:
    """``0*,1,2`` or ``74/75/76`` -> the seeds (a ``*`` marks a reused row)."""
    return [int(s) for s in re.findall(r"\d+", str(text))]


def _first_cell(cell: dict[str, Any], line: int) -> int:
    """A held-out row's first test cell: its *test cells* column (``first..last``), else ``line``
    (what a section rendered before that column printed on its protocol line)."""
    found = re.match(r"([\d,]+)\.\.", str(cell.get(TEST_CELLS, "")))
    return int(found.group(1).replace(",", "")) if found else line


def _frozen(section: Section) -> Iterator[ReportedSplit]:
    """The test sets of a ``select_defaults`` section: its ``--score-test`` table and each frozen table
    (a held-out protocol's first test cell read from each row's *test cells*, or in sections rendered
    before that column from the protocol line: "test cells from cell N on")."""
    space = _space(section)
    protocol = ""
    subsample = None
    held_out = 0
    for block in section.blocks:
        if isinstance(block, str):
            found = re.search(r"\*\*Frozen choice, (\w+) protocol\*\*", block)
            protocol = found.group(1) if found else ""
            sub = re.search(r"seeded ([\d,]+)-cell subset", block)
            subsample = int(sub.group(1).replace(",", "")) if sub else None
            first = re.search(r"test cells from cell ([\d,]+) on", block)
            held_out = int(first.group(1).replace(",", "")) if first else 0
            continue
        if not isinstance(block, Table):
            continue
        headers = list(block.headers)
        if "train cells" not in headers:
            continue
        once = "fit seed" in headers
        if not once and not protocol:
            raise ConfigError(f"section {section.name}: a test table without its protocol line")
        for row in block.rows:
            cell = dict(zip(headers, row))
            for seed in _seeds(cell["fit seed"] if once else cell["fit seeds"]):
                for column in ("all", "unseen"):
                    yield ReportedSplit(
                        section.name,
                        space,
                        "paper" if once else protocol,
                        int(cell["train cells"]),
                        seed,
                        column,
                        subsample,
                        _first_cell(cell, held_out),
                    )


def _tracks(section: Section) -> Iterator[ReportedSplit]:
    """The test sets of an extra-information track: ``cells A..B`` at each ``tau @ N`` size."""
    text = " ".join(b for b in section.blocks if isinstance(b, str))
    found = re.search(r"cells (\d+)\.\.(\d+)", text)
    if found is None:
        raise ConfigError(f"section {section.name}: no 'cells A..B' test set in its text")
    for block in section.blocks:
        if isinstance(block, Table):
            sizes = sorted({int(m) for h in block.headers for m in re.findall(r"tau @ (\d+)", h)})
            for size in sizes:
                yield ReportedSplit(
                    section.name,
                    "nasbench201",
                    "paper_held_out",
                    size,
                    0,
                    held_out=int(found.group(1)),
                    validation_size=0,
                )


def reported_splits(sections: Iterable[Section]) -> list[ReportedSplit]:
    """Every test set a stored figure of a selected setting was scored on (``select_defaults`` and the
    extra-information tracks), one per protocol, size, seed and column."""
    splits: list[ReportedSplit] = []
    for section in sections:
        if section.name.startswith("select_defaults:"):
            splits += _frozen(section)
        elif section.name in EXTRA_INFO_TRACKS:
            splits += _tracks(section)
    return list(dict.fromkeys(splits))


def superseded_note(successor: str) -> str:
    """The line under a superseded section's heading that names the section whose figures replace its own."""
    return (
        f"_Superseded by section `{successor}`: the test sets of this section's test figures hold cells a "
        "selection read (the leak audit, `python -m benchmarks.defaults.leaks`); cite that section's "
        "figures, measured on test sets that leave those cells out._"
    )


def superseded_errors(sections: Iterable[Section], superseded: dict[str, str] = SUPERSEDED) -> list[str]:
    """One line per broken entry of ``superseded``: a superseded section or successor that is not stored,
    a successor that is itself superseded, a superseded section whose text does not name its successor."""
    stored = {section.name: section for section in sections}
    errors = []
    for old, new in superseded.items():
        if old not in stored:
            errors.append(f"superseded section {old!r} is not stored")
        elif new not in stored or new in superseded:
            errors.append(f"section {old!r}: its successor {new!r} is not a stored, audited section")
        elif superseded_note(new) not in stored[old].markdown():
            errors.append(
                f"section {old!r} does not say it is superseded by {new!r} "
                "(python -m benchmarks.defaults.leaks --mark)"
            )
    return errors


def audit(
    sections: list[Section], tasks: dict[str, Task], superseded: dict[str, str] = SUPERSEDED
) -> list[Leak]:
    """The reported splits (of the spaces in ``tasks``) that hold a cell any selection of their space read,
    but those of a ``superseded`` section (its successor's are audited in their place)."""
    leaks = []
    reads = {space: selection_reads(sections, space, len(task)) for space, task in tasks.items()}
    for split in reported_splits(sections):
        if split.space not in tasks or split.section in superseded:
            continue
        train, test = split.split(tasks[split.space])
        shared = overlap(test, reads[split.space])
        if shared.size:
            own = int(np.isin(shared, train).sum())
            leaks.append(Leak(split, int(shared.size), int(reads[split.space].size), int(test.size), own))
    return leaks


def stored_sections() -> list[Section]:
    """Every section of the store (``benchmarks/results``)."""
    from benchmarks.report import store_for

    store = store_for()
    return [store.load(name) for name in store.names()]


def mark_superseded(superseded: dict[str, str] = SUPERSEDED) -> list[str]:
    """Put ``superseded_note`` under the heading of each superseded section (once); the sections marked."""
    from benchmarks.report import mark_sections

    marked = []
    for old, new in superseded.items():
        marked += mark_sections([old], superseded_note(new))
    return marked


def main(argv: list[str] | None = None) -> int:
    import sys

    if (argv if argv is not None else sys.argv[1:]) == ["--mark"]:
        print("marked:", ", ".join(mark_superseded()) or "nothing new")
        return 0
    sections = stored_sections()
    errors = superseded_errors(sections)
    for line in errors:
        print(line)
    for old, new in SUPERSEDED.items():
        print(f"{old}: superseded by {new} (audited in its place)")
    spaces = sorted({s.space for s in reported_splits(sections)})
    tasks = {
        space: build_task(CompareConfig(name=space, space=space, sizes=[2], predictors={"x": {}}))
        for space in spaces
    }
    leaks = audit(sections, tasks)
    for leak in leaks:
        print(leak.line())
    leaked = [leak for leak in leaks if leak.beyond_training]
    print(
        f"{len(leaks)} reported splits hold cells a selection read; {len(leaked)} of them hold such cells "
        "beyond their own training cells"
    )
    return 1 if leaked or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
