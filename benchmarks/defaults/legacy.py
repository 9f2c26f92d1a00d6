"""A selection result read back from a BENCHMARKS.md section's text, as ``report`` wrote it: used once, by the
#28 migration (``benchmarks.migrate_results``), to store each ``select_defaults:*`` section's result as data."""

from __future__ import annotations

import ast
import itertools
import re
from typing import Any

from benchmarks.defaults.protocols import TRAIN_METRIC
from nasearch.api.errors import ConfigError


def _table(lines: list[str], first: str) -> list[list[str]]:
    """The body cells of the markdown table whose header row starts with ``| first |``."""
    for i, line in enumerate(lines):
        if line.startswith(f"| {first} |"):
            body = itertools.takewhile(lambda x: x.startswith("|"), lines[i + 2 :])
            return [[c.strip() for c in row.strip().strip("|").split("|")] for row in body]
    return []


def result_from_section(text: str) -> dict[str, Any]:
    """A selection result read back from its BENCHMARKS.md section (what ``report`` wrote; taus as
    printed, to 3 decimals): for when the JSON is lost. The choice is the row marked chosen."""
    lines = text.strip().splitlines()
    heading = re.match(r"### (\S+): defaults selected on (.+)$", lines[0])
    meta = re.search(
        r"^`(python -m benchmarks\.select_defaults [^`]*)`\..*Fit seeds (\[[^]]*\]).*predictor's "
        r"defaults( with (\{.*\}))?\. Commit `([^`]*)`, nasearch (\S+), grid hash `([^`]*)`",
        text,
        re.M,
    )
    if heading is None or meta is None:
        raise ConfigError("not a select_defaults section: its heading or provenance line is missing")
    header = next(line for line in lines if line.startswith("| candidate |"))
    sizes = [int(x) for x in re.findall(r"validation τ @ (\d+)", header)]
    scores, chosen = [], None
    for cells in _table(lines, "candidate"):
        m = re.match(r"steps=(\d+) rank=(\S+?)( pruned| 8-node)?( \*\*\(chosen\)\*\*)?$", cells[0])
        if m is None:
            raise ConfigError(f"unreadable candidate {cells[0]!r}")
        c = {"max_steps": int(m[1]), "rank_weight": float(m[2]), "prune_graph": m[3] and m[3] == " pruned"}
        chosen = dict(c) if m[4] else chosen
        scores.append(
            {
                **c,
                "mean_tau": float(cells[-2]),
                "options_hash": cells[-1],
                "tau_by_size": {str(n): float(v) for n, v in zip(sizes, cells[1:-2])},
            }
        )
    if chosen is None:
        raise ConfigError("no candidate is marked chosen")
    validation = heading[2]
    block = re.match(r"the (\d+) cells after", validation)
    folds = re.match(r"(\d+)-fold", validation)
    result = {
        "predictor": heading[1],
        "chosen": chosen,
        "procedure": "validation" if block else "cv",
        "validation": validation,
        "metric": TRAIN_METRIC,
        "sizes": sizes,
        "seeds": ast.literal_eval(meta[2]),
        "base_options": ast.literal_eval(meta[4]) if meta[4] else {},
        "scores": scores,
        "grid_hash": meta[7],
        "version": meta[6],
        "commit": meta[5],
        "command": meta[1],
        "rebuilt_from": "its BENCHMARKS.md section (taus to 3 decimals)",
    }
    if folds:
        result["folds"] = int(folds[1])
    test_rows = _table(lines, "train cells | fit seed")
    if test_rows:
        result["test_once"] = [
            {
                "train_size": int(r[0]),
                "seed": int(r[1]),
                "kendall_tau": float(r[3]),
                "kendall_tau_unseen": float(r[4]),
                "n_test": int(r[5].split("/")[0].replace(",", "")),
                "n_unseen": int(r[5].split("/")[1].replace(",", "")),
                "options_hash": r[6],
            }
            for r in test_rows
        ]
    return result
