"""The README is a front page whose numbers come from the results store behind BENCHMARKS.md, never typed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.headline import README, headline, render
from benchmarks.results import Store

ROOT = Path(__file__).resolve().parent.parent


def test_readme_headline_block_is_what_the_results_store_gives() -> None:
    readme = README.read_text()
    assert render(readme, headline(Store())) == readme, (
        "README.md's headline block is stale: run python -m benchmarks.headline"
    )


def test_readme_is_a_front_page() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 250
    commands = [line for line in lines[:6] if line.startswith("pip install")]
    assert commands[0].startswith("pip install torch==2.13.0 -e . && nasearch run runs/quickstart.yaml")
    assert commands[1].startswith('pip install torch==2.13.0 -e ".[dev]" && python -m pytest -q tests')


def test_every_docs_page_the_readme_links_exists() -> None:
    import re

    text = README.read_text()
    for target in re.findall(r"\]\(((?:docs/)[^)#]+)", text):
        assert (ROOT / target).is_file(), target


def test_nb201_rows_are_the_leak_free_sections_held_out_tables() -> None:
    """The headline's NB201 τ are the leak-free rescoring's (test cells no selection read), size by size:
    the paper-protocol columns its paper_held_out table, the random column its random_held_out table
    (a size without 3 fit seeds prints —), never the superseded section's leaky tables."""
    from benchmarks.headline import LEAK_FREE_NB201, headline, section, titled_table

    store = Store()
    rows = [
        line.strip("|").split("|")
        for line in headline(store).splitlines()
        if line.startswith("| NAS-Bench-201 |")
    ]
    got = {cells[1].strip(): [c.strip() for c in cells[3:6]] for cells in rows}
    for protocol, columns in (("paper_held_out", (0, 1)), ("random_held_out", (2,))):
        free = titled_table(section(store, LEAK_FREE_NB201), f"Frozen choice, {protocol} protocol")
        want = {r["train cells"]: r["τ, all cells"] for r in free if len(r["fit seeds"].split(",")) >= 3}
        assert want and all(got[n][c] == tau for n, tau in want.items() for c in columns)
        assert all(got[n][c] == "—" for n in got if n not in want for c in columns)
    assert list(got) == ["156", "469", "781", "1563"]


def test_out_of_sample_headline_reads_each_table_from_its_section() -> None:
    from benchmarks.headline import OUT_OF_SAMPLE, _row, out_of_sample, section, table

    text = Store()
    cifar10 = section(text, "optimizers_compare_optimizers_nb201_fresh")
    rows = [line for line in out_of_sample(text, cifar10) if line.startswith("| NAS-Bench")]
    assert len(rows) == 1 + len(OUT_OF_SAMPLE)
    for line, text_of in zip(rows, [cifar10, *(section(text, k) for k in OUT_OF_SAMPLE.values())]):
        cells = [c.strip() for c in line.strip("|").split("|")]
        runs = table(text_of, "optimizer", "found optimum")
        assert cells[1] == _row(runs, "predictor_local_search")["found optimum"]
        evolution_seeds = _row(runs, "evolution")["found optimum"].split("/")[1]
        assert cells[0].endswith(f"({evolution_seeds})")
    nb101 = [c.strip() for c in rows[-1].strip("|").split("|")]
    assert nb101[2] == nb101[4] == "—"  # evolution never found NB101's optimum: no ratio is made up


def test_search_headline_ratios_recompute_from_their_table_s_rows() -> None:
    """A reader divides two numbers of the same table and gets the ratio the README prints: each
    row's mean (and restricted mean) ÷ regularized evolution's, whose own ratios are exactly 1.00."""
    from benchmarks.headline import PEERS_SECTION, _row, peers_headline, section, table

    text = section(Store(), PEERS_SECTION)
    rows = table(text, "optimizer", "mean ÷ evolution's [95 % CI]")
    budget = next(h for h in rows[0] if h.startswith("found @ ")).removeprefix("found @ ")
    evolution = _row(rows, "evolution")
    assert (
        evolution["mean ÷ evolution's [95 % CI]"]
        == evolution["÷ evolution's [95 % CI]"]
        == "1.00 [1.00, 1.00]"
    )
    assert not evolution["mean queries to optimum"].startswith("≥")  # its long pass found every optimum

    def number(cell: str) -> float:
        return float(cell.lstrip("≥≤ ").split(" ")[0])

    for row in rows:
        restricted = number(row[f"restricted mean queries @ {budget}"])
        assert number(row["÷ evolution's [95 % CI]"]) == pytest.approx(
            restricted / number(evolution[f"restricted mean queries @ {budget}"]), abs=0.006
        )
        if row["mean ÷ evolution's [95 % CI]"] != "—":
            assert number(row["mean ÷ evolution's [95 % CI]"]) == pytest.approx(
                number(row["mean queries to optimum"]) / number(evolution["mean queries to optimum"]),
                abs=0.006,
            )
        assert row["searched on"] == "validation"
    readme_rows = [line for line in peers_headline(text) if line.startswith("| `")]
    assert len(readme_rows) == len(rows)
    assert "Searched on validation" in "\n".join(peers_headline(text))
    for line, row in zip(readme_rows, rows):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells == [
            f"`{row['optimizer']}`",
            row[f"found @ {budget}"],
            row[f"restricted mean queries @ {budget}"],
            row["mean queries to optimum"],
            row["median queries"],
            row["mean ÷ evolution's [95 % CI]"],
        ]


def test_best_peer_ratio_recomputes_from_the_run_s_rows() -> None:
    """The README's "against the best peer" ratio: the best peer is the peer row of the same table with
    the lowest restricted mean, and each ratio is the two printed numbers divided."""
    from benchmarks.bench_optimizers import LIBRARY_ROWS
    from benchmarks.headline import PEERS_SECTION, best_peer_headline, section, table, titled_table
    from benchmarks.peers import PEERS

    text = section(Store(), PEERS_SECTION)
    rows = table(text, "optimizer", "mean ÷ evolution's [95 % CI]")
    budget = next(h for h in rows[0] if h.startswith("found @ ")).removeprefix("found @ ")
    restricted = f"restricted mean queries @ {budget}"
    peers = [r for r in rows if r["optimizer"] in {*LIBRARY_ROWS, *(str(p["label"]) for p in PEERS)}]
    best = min(peers, key=lambda r: float(r[restricted]))
    versus = {r["statistic"]: r for r in titled_table(text, "Against the best peer")}
    ours, peer = "`predictor_local_search`", f"`{best['optimizer']}`"
    assert peer in versus["mean"]
    pls = next(r for r in rows if r["optimizer"] == "predictor_local_search")
    assert versus[f"restricted mean @ {budget}"][ours] == pls[restricted]
    assert versus[f"restricted mean @ {budget}"][peer] == best[restricted]
    assert versus["median"][ours] == pls["median queries"]

    def number(cell: str) -> float:
        return float(cell.lstrip("≥≤ ").split(" ")[0])

    for stat in ("mean", f"restricted mean @ {budget}"):
        ratio = versus[stat]["ours ÷ the peer's [95 % CI]"]
        assert number(ratio) == pytest.approx(
            number(versus[stat][ours]) / number(versus[stat][peer]), abs=0.006
        )
    line = "\n".join(best_peer_headline(text, budget))
    mean_ratio = versus["mean"]["ours ÷ the peer's [95 % CI]"]
    assert f"= **{mean_ratio}**" in line


def test_out_of_sample_rows_say_which_column_they_searched() -> None:
    from benchmarks.headline import out_of_sample, section

    text = Store()
    rows = [
        line
        for line in out_of_sample(text, section(text, "optimizers_compare_optimizers_nb201_fresh"))
        if line.startswith("| NAS-Bench")
    ]
    searched = [line.strip("|").split("|")[-1].strip() for line in rows]
    assert searched[0] == "validation"  # CIFAR-10: the 200-epoch cifar10-valid column
    assert searched[1:] == ["test: an optimisation benchmark, not a held-out accuracy"] * 3


def test_a_cut_run_s_seeds_are_named_as_they_ran() -> None:
    from benchmarks.headline import seed_ranges

    assert seed_ranges([605, 600, 601, 602, 607, 608]) == "600–602, 605, 607–608"
    assert seed_ranges([600]) == "600"


def test_nb101_rows_are_the_leak_free_sections_paper_held_out_table() -> None:
    """The headline's NB101 τ are the leak-free rescoring's (every cell past those a selection read, no
    subset), size by size, in both paper-protocol columns, except where the later step-budget selection
    scored its choice on 3 fit seeds (its row stands in there); never the superseded section's subset rows."""
    from benchmarks.headline import LEAK_FREE_NB101, NB101_STEPS, headline, section, titled_table

    store = Store()
    want: dict[str, str] = {}
    for name in (LEAK_FREE_NB101, NB101_STEPS):
        free = titled_table(section(store, name), "Frozen choice, paper_held_out protocol")
        want.update(
            {r["train cells"]: r["τ, all cells"] for r in free if len(r["fit seeds"].split(",")) >= 3}
        )
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in headline(store).splitlines()
        if line.startswith("| NAS-Bench-101 |") and line.count("|") == 7
    ]
    got = {cells[1]: cells[3:5] for cells in rows}
    assert list(got) == ["172", "424", "4236"]
    assert all(got[n] == [tau, tau] for n, tau in want.items()) and set(want) == set(got)
