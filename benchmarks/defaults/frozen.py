"""The frozen choice scored on test cells, one fit per size and seed, reusing every row already measured."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.defaults.protocols import (
    PAPER_BLOCK,
    TEST_METRIC,
    TRAIN_METRIC,
    first_test_cell,
    held_out_options,
)
from benchmarks.defaults.selection import _csv_rows, _space_options
from nasearch.compare import CompareConfig, Task, build_task, row_options, run_compare
from nasearch.data.provenance import options_hash

#: the columns a frozen-choice test row keeps (in the JSON, under ``frozen[protocol]``)
FROZEN_KEYS = (
    "protocol",
    "train_size",
    "seed",
    "kendall_tau",
    "kendall_tau_unseen",
    "n_test",
    "n_unseen",
    "fit_seconds",
    "options_hash",
    "commit",
)


def frozen_config(
    result: dict[str, Any], protocol: str, size: int, seed: int, block: int = PAPER_BLOCK, held_out: int = 0
) -> tuple[CompareConfig, dict[str, Any]]:
    """The compare config and predictor options that score ``result``'s frozen choice at one size and
    seed on ``protocol``'s test cells (``block`` validation cells, disjoint from them, pick the checkpoint;
    a held-out protocol's test set starts at cell ``held_out``)."""
    chosen = result["chosen"]
    options = {
        **result["base_options"],
        "max_steps": chosen["max_steps"],
        "rank_weight": chosen["rank_weight"],
    }
    config = CompareConfig(
        name="selected_test",
        sizes=[size],
        seeds=[seed],
        predictors={"selected": options},
        protocol=protocol,
        space=result.get("space", "nasbench201"),
        train_metric=result.get("metric", TRAIN_METRIC),
        test_metric=result.get("test_metric", TEST_METRIC),
        threads=1,
        validation_size=block,
        space_options=_space_options(chosen["prune_graph"]),
        test_subsample=result.get("test_subsample"),
        protocol_options=held_out_options(protocol, held_out),
    )
    return config, options


def _known_row(rows: list[dict[str, Any]], want: str, size: int, seed: int) -> dict[str, Any] | None:
    """The row of ``rows`` measured with options hash ``want`` at ``size`` and ``seed``, if any."""
    for r in rows:
        if str(r.get("options_hash")) == want and int(r["train_size"]) == size and int(r["seed"]) == seed:
            return r
    return None


def _frozen_row(row: dict[str, Any], protocol: str, commit: str = "") -> dict[str, Any]:
    """``row`` (a run_compare row, a results.csv row or a legacy ``test_once`` row) as FROZEN_KEYS, typed."""

    def num(key: str, cast: Any) -> Any:
        value = row.get(key, "")
        return cast(value) if value not in ("", None) else None

    return {
        "protocol": protocol,
        "train_size": num("train_size", int),
        "seed": num("seed", int),
        "kendall_tau": num("kendall_tau", float),
        "kendall_tau_unseen": num("kendall_tau_unseen", float),
        "n_test": num("n_test", int),
        "n_unseen": num("n_unseen", int),
        "fit_seconds": num("fit_seconds", float),
        "options_hash": str(row["options_hash"]),
        "commit": str(row.get("commit") or commit),
    }


def score_frozen(
    result: dict[str, Any],
    protocol: str,
    sizes: Sequence[int],
    seeds: Sequence[int],
    out_dir: Path,
    block: int = PAPER_BLOCK,
    task: Task | None = None,
    log: Any = print,
    on_row: Any = None,
    held_out: int = 0,
) -> list[dict[str, Any]]:
    """Score ``result``'s frozen choice on ``protocol``'s test cells at every size and seed (seed-major,
    so a stopped run has every size at its first seeds); one fit per (size, seed) into
    ``out_dir/frozen_<protocol>/n<size>_seed<seed>/results.csv``. A row already measured with the same
    options hash, size and seed (``result['frozen']``, the legacy ``test_once`` rows, that results.csv)
    is reused, not refitted. ``on_row(row)`` is called as each row lands. ``held_out``: one past every
    cell a stored selection read; a held-out protocol (``HELD_OUT_PROTOCOLS``) tests from
    ``first_test_cell`` on at each size, which each row records (``held_out``)."""
    known = list(result.get("frozen", {}).get(protocol, []))
    if protocol == "paper":  # the first --score-test scored the paper protocol, under this key
        known += [_frozen_row(r, protocol, result.get("commit") or "") for r in result.get("test_once", [])]
    rows = []
    for seed in seeds:
        for size in sizes:
            first = first_test_cell(protocol, size, held_out, block)
            config, options = frozen_config(result, protocol, size, seed, block, first)
            want = options_hash(row_options(config, result["predictor"], options))
            cell_dir = out_dir / f"frozen_{protocol}" / f"n{size}_seed{seed}"
            row = _known_row(known, want, size, seed)
            if row is None:
                found = _known_row(_csv_rows(cell_dir / "results.csv"), want, size, seed)
                row = None if found is None else _frozen_row(found, protocol)
            if row is not None:
                log(
                    f"{protocol} n={size} seed={seed}: reusing the row measured at commit {row['commit']} ({want})"
                )
            else:
                if task is None:
                    task = build_task(config)
                (fitted,) = run_compare(
                    config, {"selected": (result["predictor"], options)}, cell_dir, task, log=log
                )
                row = _frozen_row(fitted, protocol)
            row = {**row, **held_out_options(protocol, first)}
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


def save_frozen_row(path: Path, row: dict[str, Any], command: str) -> None:
    """Add ``row`` to the JSON at ``path`` under ``frozen[protocol]`` (replacing one of the same hash, size
    and seed), re-reading the file first so that runs of other protocols writing it keep their rows; the
    read and the write hold a lock (``<path>.lock``), so two runs writing one file lose no row."""
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = json.loads(path.read_text())
        protocol = row["protocol"]
        rows = [
            r
            for r in result.setdefault("frozen", {}).get(protocol, [])
            if (r["options_hash"], r["train_size"], r["seed"])
            != (row["options_hash"], row["train_size"], row["seed"])
        ]
        result["frozen"][protocol] = sorted(rows + [row], key=lambda r: (r["train_size"], r["seed"]))
        result.setdefault("frozen_commands", {})[protocol] = command
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=2))
        tmp.replace(path)
