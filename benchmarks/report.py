"""Write one benchmark's section of BENCHMARKS.md, leaving the other sections as they are.

Each script owns the text between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``; a rerun
replaces only that span, so scripts can be rerun independently in any order.
"""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nEvery figure here was printed by a script in `benchmarks/`; rerun it to refresh its section.\n"


def machine_line() -> str:
    """Where and when the figures were measured."""
    import torch

    return (
        f"_Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} with {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, torch {torch.__version__} (CPU)._"
    )


def write_section(name: str, markdown: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``markdown``."""
    text = path.read_text() if path.exists() else HEADER
    block = f"<!-- begin {name} -->\n{markdown.strip()}\n<!-- end {name} -->"
    pattern = re.compile(rf"<!-- begin {re.escape(name)} -->.*?<!-- end {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    """A GitHub markdown table; floats to 3 significant decimals."""
    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
