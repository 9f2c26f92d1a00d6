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
