"""The README is a front page whose numbers come from BENCHMARKS.md, never typed by hand."""

from __future__ import annotations

from pathlib import Path

from benchmarks.headline import README, headline, render

ROOT = Path(__file__).resolve().parent.parent


def test_readme_headline_block_is_what_benchmarks_md_gives() -> None:
    readme = README.read_text()
    assert render(readme, headline((ROOT / "BENCHMARKS.md").read_text())) == readme, (
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


def test_out_of_sample_headline_reads_each_table_from_its_section() -> None:
    from benchmarks.headline import OUT_OF_SAMPLE, _row, out_of_sample, section, table

    text = (ROOT / "BENCHMARKS.md").read_text()
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
