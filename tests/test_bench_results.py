"""The results store: BENCHMARKS.md is rendered from benchmarks/results/*.json, never parsed back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks.report import BENCHMARKS_MD, mark_sections, markdown_table, write_section
from benchmarks.results import RESULTS_DIR, DamagedResults, Store, Table, blocks_of, file_of


def test_the_committed_benchmarks_md_is_what_the_store_renders() -> None:
    assert Store().render() == BENCHMARKS_MD.read_text(), (
        "BENCHMARKS.md and benchmarks/results/ have drifted: run python -m benchmarks.render"
    )


def test_every_stored_table_is_data_not_markdown() -> None:
    store = Store()
    names = store.names()
    assert len(names) == len(set(names)) and len(names) >= 41
    for name in names:
        for block in store.load(name).blocks:
            if isinstance(block, str):  # prose only: every table of the page is a stored table
                assert not any(line.startswith("|") for line in block.splitlines()), name
    rows = store.load("optimizers_compare_optimizers_nb201_peers").table("optimizer", "median queries")
    assert {r["optimizer"] for r in rows} >= {"evolution", "random"}


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    shutil.copytree(RESULTS_DIR, root)
    return root


def test_a_file_that_is_not_json_is_one_error_naming_it(damaged: Path) -> None:
    path = file_of("multifidelity", damaged)
    path.write_text(path.read_text()[:200])
    with pytest.raises(DamagedResults, match=rf"{path.name}: damaged results file, not valid JSON"):
        Store(damaged).render()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda raw: raw.pop("blocks"), "'section' \\(a string\\) and 'blocks' \\(a list\\) are required"),
        (
            lambda raw: raw["blocks"].append({"table": {"headers": ["a", "b"], "rows": [["1"]]}}),
            "block \\d+ is neither",
        ),
        (lambda raw: raw.update(measured="abc"), "'measured' must be a list"),
        (lambda raw: raw.update(section="data"), "it holds section 'data', not 'hardware_aware'"),
    ],
)
def test_a_file_missing_or_mistyping_a_field_is_one_error_naming_it(damaged: Path, damage, message) -> None:
    path = file_of("hardware_aware", damaged)
    raw = json.loads(path.read_text())
    damage(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(DamagedResults, match=rf"{path.name}: damaged results file: {message}"):
        Store(damaged).render()
    (damaged / "index.json").write_text('{"sections": "x"}')
    with pytest.raises(DamagedResults, match="index.json: damaged results index"):
        Store(damaged).names()


def test_a_section_is_stored_as_raw_cells_and_rendered_onto_the_page(tmp_path: Path) -> None:
    page = tmp_path / "BENCHMARKS.md"
    table = markdown_table(["x", "y"], [[1.23456, "s"], [12345.6, None]])
    write_section("a", ["### A", "", table, "", "after"], page)
    write_section("b", "### B\n\n| p | q |\n|---|---|\n| 1 | 2 |\n\nend", page)
    store = Store(tmp_path / "benchmarks" / "results")
    assert store.names() == ["a", "b"]
    raw = json.loads(file_of("a", store.root).read_text())
    assert raw["blocks"][1] == {"table": {"headers": ["x", "y"], "rows": [[1.23456, "s"], [12345.6, None]]}}
    shown = "### A\n\n| x | y |\n|---|---|\n| 1.235 | s |\n| 12,346 | None |\n\nafter"
    assert f"<!-- begin a -->\n{shown}\n<!-- end a -->" in page.read_text() and table == shown[7:-7]
    assert store.load("b").table("p", "q") == [{"p": "1", "q": "2"}]
    assert mark_sections(["b"], "_a note_", page) == ["b"] and mark_sections(["b"], "_a note_", page) == []
    assert "### B\n\n_a note_\n\n| p | q |" in page.read_text() and page.read_text() == store.render()
    write_section("a", "### A again", page)  # a rerun replaces its section only, in place
    assert page.read_text().index("A again") < page.read_text().index("### B")


def test_text_becomes_blocks_that_render_it_back() -> None:
    text = "### T\n\n| a | b |\n|---|---|\n| 1 | x |\n\n|not a table|\n| c |\n|---|---|\ntail"
    blocks = blocks_of(text)
    assert [type(b) for b in blocks] == [str, Table, str]
    assert "\n".join(b.markdown() if isinstance(b, Table) else b for b in blocks) == text


def test_the_migration_reproduces_the_page(tmp_path: Path) -> None:
    from benchmarks.migrate_results import migrate

    names = migrate(BENCHMARKS_MD, tmp_path)
    assert names == Store().names() and Store(tmp_path).render() == BENCHMARKS_MD.read_text()


def test_the_headline_reads_a_search_section_s_records_not_its_prose() -> None:
    from benchmarks.headline import PEERS_SECTION, searched_label
    from benchmarks.results import Section

    peers = Store().load(PEERS_SECTION)
    assert (
        set(peers.data or {}) == {"searched_on", "first_seed", "seeds"}
        and searched_label(peers) == "validation"
    )
    assert searched_label(
        Section("x", ["**Searched on validation**"], data={"searched_on": "test"})
    ).startswith("test")
    with pytest.raises(ValueError, match="section 'x' of the results store does not record 'searched_on'"):
        searched_label(Section("x", ["**Searched on validation**"]))
