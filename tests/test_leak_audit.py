"""The leak audit over the stored sections: no reported test set may hold a cell any selection read."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.defaults.leaks import (
    SUPERSEDED,
    ReportedSplit,
    audit,
    reported_splits,
    selection_reads,
    stored_sections,
    superseded_errors,
    superseded_note,
)
from benchmarks.defaults.protocols import PAPER_BLOCK
from benchmarks.results import Section, Table
from nasearch.api.errors import ConfigError
from nasearch.compare import CompareConfig, Task, build_task


@pytest.fixture(scope="module")
def task() -> Task:
    return build_task(CompareConfig(name="nb201", sizes=[2], predictors={"x": {}}))


@pytest.fixture(scope="module")
def sections() -> list[Section]:
    return stored_sections()


@pytest.fixture(scope="module")
def tasks(task: Task) -> dict[str, Task]:
    """Both spaces' tasks: every stored figure's test set is audited."""
    nb101 = CompareConfig(name="nb101", space="nasbench101", sizes=[2], predictors={"x": {}})
    return {"nasbench201": task, "nasbench101": build_task(nb101)}


def _by_section(leaks: list) -> dict[str, int]:
    out: dict[str, int] = {}
    for leak in leaks:
        out[leak.split.section] = out.get(leak.split.section, 0) + 1
    return out


def test_the_selections_of_nb201_read_the_first_1493_cells(sections, task):
    """Both stored NB201 default selections read training 0..468 and validation 469..1492; the
    extra-information choices read 0..1179, inside them."""
    read = selection_reads(sections, "nasbench201", len(task))
    assert np.array_equal(read, np.arange(469 + PAPER_BLOCK))


def test_every_frozen_row_and_track_of_the_store_is_audited(sections):
    """The audit reads each stored select_defaults test table (both protocols, every size and fit seed)
    and each extra-information track: a table it could not place would be a figure left unchecked."""
    splits = reported_splits(sections)
    pruned = {(s.protocol, s.size, s.seed) for s in splits if s.section.endswith("nnformer_nb201_pruned")}
    for protocol in ("paper", "random"):
        assert {(protocol, n, seed) for n in (156, 469, 781, 1563) for seed in (0, 1, 2)} <= pruned
    nb101 = [s for s in splits if s.section == "select_defaults:nnformer_nb101"]
    assert {s.test_subsample for s in nb101} == {50_000}
    tracks = {s.section for s in splits if s.protocol == "paper_held_out"}
    assert {"predictors:extra_info", "predictors:extra_info_proxies"} <= tracks


def test_a_split_rebuilds_the_test_set_its_row_reports(sections, task):
    """The rebuilt test sets have the sizes the stored rows print (cells all / unseen)."""
    by = {(s.section, s.protocol, s.size, s.seed, s.column): s for s in reported_splits(sections)}
    name = "select_defaults:nnformer_nb201_pruned"
    assert by[(name, "paper", 156, 1, "all")].cells(task).size == 15_625 - PAPER_BLOCK
    assert by[(name, "paper", 156, 1, "unseen")].cells(task).size == 14_445
    assert by[(name, "random", 469, 2, "all")].cells(task).size == 14_132
    assert by[("predictors:extra_info_proxies", "paper_held_out", 156, 0, "all")].cells(task).size == 14_445


def test_the_audit_finds_an_overlap_and_passes_a_clean_test_set(sections, task):
    """On the real NB201 split: the extra-information test set (cells 1180..) is clean of its own
    choice's cells but holds 313 cells the defaults' selection read (1180..1492); a test set from 1493
    on is clean of both."""
    own = Section("predictors:extra_info_select", ["x"], data={"chosen": "x"})
    track = ReportedSplit("t", "nasbench201", "paper_held_out", 156, 0, held_out=1180)
    clean = ReportedSplit("t", "nasbench201", "paper_held_out", 156, 0, held_out=1493)
    assert audit([own], {"nasbench201": task}) == []
    assert selection_reads([own], "nasbench201", len(task)).size == 1180
    defaults = [s for s in sections if s.name == "select_defaults:nnformer_nb201_8node"]
    read = selection_reads([*defaults, own], "nasbench201", len(task))
    assert np.intersect1d(track.cells(task), read).size == 313
    assert np.intersect1d(clean.cells(task), read).size == 0


def test_a_paper_held_out_split_must_start_past_its_own_validation_cells(sections, task):
    """On the real NB201 split at 781 and 1563 cells: a test set from the first unread cell (1493) would
    hold the figure's own validation block (781..1804, 1563..2586), so the audit refuses to rebuild it;
    from ``first_test_cell`` on (1805, 2587) it holds no cell any selection or the figure's fit read."""
    from benchmarks.defaults.protocols import first_test_cell

    read = selection_reads(sections, "nasbench201", len(task))
    for size in (781, 1563):
        with pytest.raises(ConfigError, match="held_out must be >= the training size"):
            ReportedSplit("t", "nasbench201", "paper_held_out", size, 0, held_out=read.size).cells(task)
        first = first_test_cell("paper_held_out", size, read.size)
        train, test = ReportedSplit("t", "nasbench201", "paper_held_out", size, 0, held_out=first).split(task)
        assert first == size + PAPER_BLOCK and test.min() == first and test.size == len(task) - first
        assert np.intersect1d(test, read).size == 0 and np.intersect1d(test, np.arange(first)).size == 0


def test_the_audit_reads_each_rows_first_test_cell_and_the_older_protocol_line():
    """A held-out frozen table's rows each give their test cells (``first..last``); a section rendered
    before that column gives one first cell on its protocol line ("test cells from cell N on")."""
    line = "**Frozen choice, paper_held_out protocol** (... test cells from cell 1,493 on ...)"
    per_row = Table(
        ["train cells", "fit seeds", "test cells"],
        [["156", "0", "1,493..15,624"], ["781", "1", "1,805..15,624"]],
    )
    older = Table(["train cells", "fit seeds"], [["469", "2"]])
    splits = reported_splits(
        [
            Section("select_defaults:a", [line, per_row], data={"result": {}}),
            Section("select_defaults:b", [line, older], data={"result": {}}),
        ]
    )
    assert {(s.section, s.size, s.seed, s.held_out) for s in splits} == {
        ("select_defaults:a", 156, 0, 1493),
        ("select_defaults:a", 781, 1, 1805),
        ("select_defaults:b", 469, 2, 1493),
    }


def test_a_frozen_table_without_its_protocol_is_refused():
    table = Table(["train cells", "fit seeds"], [["156", "0,1"]])
    with pytest.raises(ConfigError, match="without its protocol line"):
        reported_splits([Section("select_defaults:x", ["no protocol here", table], data={"result": {}})])


def test_todays_leaks_are_in_both_protocols_and_the_extra_information_track(sections, task):
    """What the audit finds in today's store with no section superseded (issue #23's first leak): the
    NB201 select_defaults test tables of both protocols and the extra-information tracks hold cells the
    selections read beyond their own training cells; the paper protocol's *unseen* cells only at 156
    (1180..1492)."""
    leaks = [leak for leak in audit(sections, {"nasbench201": task}, superseded={}) if leak.beyond_training]
    found = {(leak.split.section, leak.split.protocol, leak.split.column) for leak in leaks}
    name = "select_defaults:nnformer_nb201_pruned"
    assert {(name, "paper", "unseen"), (name, "random", "all")} <= found
    assert ("predictors:extra_info_proxies", "paper_held_out", "all") in found
    assert {leak.split.size for leak in leaks if leak.split.protocol == "paper"} == {156}
    assert {leak.beyond_training for leak in leaks if leak.split.protocol != "random"} == {313}
    random_rows = [leak for leak in leaks if leak.split.protocol == "random"]
    assert len(random_rows) == 2 * 4 * 3 and all(1000 < leak.shared < leak.read for leak in random_rows)


def test_the_paper_protocols_own_training_cells_are_counted_apart(sections, task):
    """At 469 cells and above, the paper protocol's *all cells* hold only the figure's own training
    cells among those read: counted, and not a selection's leak."""
    leaks = audit(sections, {"nasbench201": task}, superseded={})
    big = [leak for leak in leaks if leak.split.protocol == "paper" and leak.split.size >= 469]
    assert big and all(leak.shared == leak.own_training == min(leak.split.size, 1493) for leak in big)


def test_a_superseded_section_names_its_stored_successor_and_is_audited_through_it(sections, task):
    """Each ``SUPERSEDED`` section is stored, says under its heading which section superseded it, and
    its successor is stored and audited: the audit skips the superseded section's splits, no other's,
    and its selection still counts among the cells read."""
    assert superseded_errors(sections) == []
    old, new = "select_defaults:nnformer_nb201_pruned", "select_defaults:nnformer_nb201_pruned_leak_free"
    assert SUPERSEDED[old] == new
    found = {leak.split.section for leak in audit(sections, {"nasbench201": task})}
    assert old not in found and old in {
        leak.split.section for leak in audit(sections, {"nasbench201": task}, {})
    }
    assert selection_reads([s for s in sections if s.name == old], "nasbench201", len(task)).size == 1493
    by_name = {s.name: s for s in sections}
    unmarked = Section(old, ["### heading", "text"])
    one = {old: new}
    assert superseded_errors([unmarked, by_name[new]], one) == [
        f"section {old!r} does not say it is superseded by {new!r} (python -m benchmarks.defaults.leaks --mark)"
    ]
    assert superseded_errors([by_name[old]], one) == [
        f"section {old!r}: its successor {new!r} is not a stored, audited section"
    ]
    assert superseded_errors([by_name[new]], {"select_defaults:gone": new}) == [
        "superseded section 'select_defaults:gone' is not stored"
    ]
    assert superseded_note(new) in by_name[old].markdown()


def test_the_earlier_extra_information_tracks_leak_and_their_successor_does_not(sections, tasks):
    """Without their entries in ``SUPERSEDED``, the earlier NB201 extra-information tracks (8-node
    default, cells from 1180 on) hold 313 cells the NB201 default's selection read (1180..1492, read at
    469); their successor, rebuilt on the pruned default and scored from cell 1493 on, holds none."""
    earlier = {f"predictors:extra_info{s}" for s in ("", "_proxies", "_pretrained")}
    assert all(SUPERSEDED[name] == "predictors:extra_info_nb201" for name in earlier)
    kept = {old: new for old, new in SUPERSEDED.items() if old not in earlier}
    leaks = [leak for leak in audit(sections, tasks, kept) if leak.beyond_training]
    assert {leak.split.section for leak in leaks} == earlier
    assert {leak.beyond_training for leak in leaks} == {313}
    track = [s for s in reported_splits(sections) if s.section == "predictors:extra_info_nb201"]
    assert [(s.protocol, s.size, s.held_out) for s in track] == [("paper_held_out", 156, 1493)]


def test_no_reported_test_set_holds_a_cell_a_selection_read(sections, tasks):
    """Issue #23: no stored figure of either space, superseded sections audited through their
    successors, is scored on a cell any selection of its space read."""
    leaks = [leak for leak in audit(sections, tasks) if leak.beyond_training]
    assert not leaks, "\n".join(leak.line() for leak in leaks)


def test_random_held_out_draws_as_random_and_scores_no_read_cell(sections, task):
    """The leak-free random protocol: the same training and validation cells as ``random`` at each seed,
    its test set less every cell the NB201 selections read; the audit finds nothing in it."""
    from benchmarks.defaults.protocols import random_held_out

    read = selection_reads(sections, "nasbench201", len(task))
    for seed in (0, 1):
        plain = ReportedSplit("t", "nasbench201", "random", 469, seed)
        held = ReportedSplit("t", "nasbench201", "random_held_out", 469, seed, held_out=int(read.max()) + 1)
        (train, test), (train_h, test_h) = plain.split(task), held.split(task)
        assert np.array_equal(train, train_h)
        assert np.array_equal(test_h, test[test > read.max()])
        assert np.intersect1d(test_h, read).size == 0 and test_h.size > 12_000
    config = CompareConfig(name="t", sizes=[2], predictors={"x": {}}, protocol="random_held_out")
    with pytest.raises(ConfigError, match="held_out must be between 1 and"):
        next(iter(random_held_out(task, 156, 0, config)))


def test_the_stored_leak_free_rescoring_is_audited_and_clean(sections, task):
    """The leak-free section of the NB201 default (random_held_out and paper_held_out at 156, 469, 781
    and 1563, 3 fit seeds each; test cells from 1493 on, paper_held_out's at 781 and 1563 from past their
    own validation blocks, 1805 and 2587) is read by the audit, and none of its splits holds a cell any
    selection read; it selects nothing, so the read cells stay 0..1492."""
    name = "select_defaults:nnformer_nb201_pruned_leak_free"
    splits = [s for s in reported_splits(sections) if s.section == name]
    first = {156: 1493, 469: 1493, 781: 1805, 1563: 2587}
    assert {(s.protocol, s.size, s.seed, s.held_out) for s in splits} == {
        *(("random_held_out", n, seed, 1493) for n in first for seed in (0, 1, 2)),
        *(("paper_held_out", n, seed, first[n]) for n in first for seed in (0, 1, 2)),
    }
    assert selection_reads(sections, "nasbench201", len(task)).size == 1493
    assert [leak for leak in audit(sections, {"nasbench201": task}) if leak.split.section == name] == []
    assert {
        s.cells(task).size for s in splits if (s.protocol, s.size, s.seed) == ("random_held_out", 469, 0)
    } == {12_771}
