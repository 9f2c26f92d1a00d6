"""Choose a predictor's defaults (step budget, rank_weight, pruned cells) without reading a test cell.

    python -m benchmarks.select_defaults --sizes 156,469 --max-steps 4000,16000 --rank-weights 0.2,1 \
        --pruned true,false --out runs/out/select_defaults/nb201.json
    python -m benchmarks.select_defaults --procedure cv --folds 3 ...   # k-fold CV on the training cells

Procedures (each a ``nasearch compare`` split protocol, so every fit is a traced results.csv row):

- ``validation`` (default): the paper protocol's own validation block. Train on the first N cells
  in official index order, score Kendall tau on the next ``--block`` cells (the paper's 1024).
- ``cv``: k-fold cross-validation on the first N cells only (NASLib's predictor evaluator does
  this): train on k-1 folds, score on the held-out fold.

Both score on the *training* metric (CIFAR-10-valid validation accuracy), never on the test metric,
and the fits see a task whose every column is NaN outside the training and validation cells: a
procedure that touched a test cell would fail (a NaN target is an error), not quietly leak. The
candidate with the best mean tau over all sizes and seeds wins (ties: the smaller step budget).
The output is a JSON of the chosen defaults with every candidate's score and the provenance.
``--score-test`` then scores the chosen setting, frozen, on the test cells: at ``--test-sizes`` x
``--test-seeds`` (default: the selection's) under each of ``--test-protocols`` (``paper``, ``random``).
``--frozen`` reads the choice from ``--out`` instead of selecting again, so the test grid can grow
without a new selection; a row already measured with the same options hash, size and seed (in the
JSON or in its results.csv) is reused, never refitted.

    python -m benchmarks.select_defaults --frozen --score-test --test-sizes 156,469,781,1563 \
        --test-seeds 0,1,2 --test-protocols paper,random --out runs/out/select_defaults/nnformer_nb201_pruned.json

``--rebuild-json`` writes ``--out`` back from its section's stored result (``benchmarks/results/``) when
the JSON itself is lost (for sections measured before the store: taus rounded as printed).

This module is the command line; the jobs live in ``benchmarks/defaults/`` (protocols, selection,
frozen, section) and their names are importable from here as before.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from benchmarks.defaults.frozen import (
    FROZEN_KEYS,
    _frozen_row,
    _known_row,
    frozen_config,
    save_frozen_row,
    score_frozen,
)
from benchmarks.defaults.protocols import (
    HELD_OUT_PROTOCOLS,
    PAPER_BLOCK,
    TEST_METRIC,
    TRAIN_METRIC,
    VisibleTask,
    train_cv,
    validation_block,
)
from benchmarks.defaults.section import (
    PAPER,
    PAPER_NB101,
    PAPER_NB201,
    PROTOCOL_TEXT,
    command_of,
    frozen_cells,
    frozen_table,
    leaky_taus,
    paper_of,
    report,
)
from benchmarks.defaults.selection import _csv_rows, _label, candidates, measure, select
from nasearch.api.errors import ConfigError
from nasearch.compare import run_compare
from nasearch.data.provenance import git_commit

__all__ = [
    "FROZEN_KEYS",
    "PAPER",
    "PAPER_BLOCK",
    "PAPER_NB101",
    "PAPER_NB201",
    "PROTOCOL_TEXT",
    "TEST_METRIC",
    "TRAIN_METRIC",
    "VisibleTask",
    "_csv_rows",
    "_frozen_row",
    "_known_row",
    "_label",
    "candidates",
    "command_of",
    "frozen_config",
    "frozen_table",
    "main",
    "measure",
    "report",
    "run_compare",
    "save_frozen_row",
    "score_frozen",
    "select",
    "stored_result",
    "train_cv",
    "validation_block",
]


def stored_result(section: str) -> dict[str, Any]:
    """The selection result section ``section`` of the results store keeps (``data.result``)."""
    from benchmarks.results import Store

    data = Store().load(section).data or {}
    if not isinstance(data.get("result"), dict):
        raise ConfigError(f"section {section!r} of the results store keeps no selection result")
    return dict(data["result"])


def recorded_settings(result: dict[str, Any]) -> dict[str, Any]:
    """The space and metrics that ``result``'s recorded command ran with, and its test subset (a result
    rebuilt from a section's text kept the defaults instead: NB201's metrics, no space): empty when it
    recorded no command."""
    words = shlex.split(str(result.get("command") or ""))
    if words[:3] != ["python", "-m", "benchmarks.select_defaults"]:
        return {}
    args = build_parser().parse_args(words[3:])
    return {
        "space": args.space,
        "metric": args.train_metric,
        "test_metric": args.test_metric,
        "test_subsample": args.test_subsample,
    }


def rescored(result: dict[str, Any], source: str, section: str) -> dict[str, Any]:
    """``result`` (stored selection ``source``) as the JSON of ``section``: itself when they are one
    section, else its choice alone (``frozen_from`` names it; no test rows) for ``--frozen`` to rescore,
    with the space and metrics its command ran with; its test subset (if any) becomes ``leaky_subsample``
    (what the leaky figures were scored on): the rescoring scores every test cell."""
    if source == section:
        return result
    kept = {k: v for k, v in result.items() if k not in ("test_once", "frozen", "frozen_commands", "command")}
    settings = recorded_settings(result)
    subsample = settings.pop("test_subsample", None)
    return {
        **kept,
        **settings,
        **({"leaky_subsample": subsample} if subsample else {}),
        "frozen_from": source,
    }


def with_leaky(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with, when it rescores a stored choice (``frozen_from``), the τ that choice scored on
    its own (leaky) test sets, read from that section (``leaky``), and, when it names a section to stand
    beside (``beside``, e.g. another predictor's), that section's τ per protocol and size with its test
    cells (``beside_taus``, ``beside_name``), for the tables to show beside."""
    from benchmarks.results import Store

    if result.get("frozen_from"):
        result = {**result, "leaky": leaky_taus(Store().load(result["frozen_from"]))}
    if result.get("beside"):
        other = Store().load(result["beside"])
        name = paper_of(str(((other.data or {}).get("result") or {}).get("predictor", "")), "")[0]
        result = {**result, "beside_taus": frozen_cells(other, "τ, all cells"), "beside_name": name}
    return result


def _first_unread(space: str) -> int:
    """One past every cell a stored selection of ``space`` read (the leak audit's ``selection_reads``)."""
    from benchmarks.defaults.leaks import first_unread, stored_sections
    from nasearch.compare import CompareConfig, build_task

    task = build_task(CompareConfig(name=space, space=space, sizes=[2], predictors={"x": {}}))
    return first_unread(stored_sections(), space, len(task))


def _base_options(text: str) -> dict[str, Any]:
    """``--base-options``: a JSON object of predictor options."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"--base-options must be a JSON object, got {text!r} ({err.msg})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--base-options must be a JSON object, got {text!r}")
    return value


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The command line (``recorded_settings`` reads a stored command with it too)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--declared", help="a declared selection (benchmarks/defaults/declared.py); see declared_argv"
    )
    parser.add_argument("--predictor", default="nnformer")
    parser.add_argument(
        "--space", default="nasbench201", help="an enumerable space with tables (nasbench101)"
    )
    parser.add_argument("--train-metric", default=TRAIN_METRIC, help="what the fits train and validate on")
    parser.add_argument(
        "--test-metric", default=TEST_METRIC, help="what --score-test scores (kept in the JSON)"
    )
    parser.add_argument("--test-subsample", type=int, help="score on a seeded subset of this many test cells")
    parser.add_argument(
        "--base-options",
        default="{}",
        help="JSON: the predictor's options besides the grid's, the same for every candidate",
    )
    parser.add_argument(
        "--beside",
        help="a stored select_defaults section whose τ on the same test cells the frozen tables show beside",
    )
    parser.add_argument("--procedure", choices=("validation", "cv"), default="validation")
    parser.add_argument("--sizes", default="156,469")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--max-steps", default="4000,16000")
    parser.add_argument("--rank-weights", default="0.2,1")
    parser.add_argument(
        "--pruned", default="true,false", help="'none' for a space without the option (NB101)"
    )
    parser.add_argument(
        "--block", type=int, default=PAPER_BLOCK, help="validation cells after the training block"
    )
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--score-test", action="store_true", help="then score the chosen setting, frozen, on test cells"
    )
    parser.add_argument(
        "--frozen", action="store_true", help="read the choice from --out instead of selecting"
    )
    parser.add_argument("--test-sizes", help="training sizes of --score-test (default: --sizes)")
    parser.add_argument("--test-seeds", help="fit seeds of --score-test (default: --seeds)")
    parser.add_argument(
        "--test-protocols",
        default="paper",
        help="comma-separated: paper, random, paper_held_out, random_held_out (any registered protocol)",
    )
    parser.add_argument(
        "--held-out",
        type=int,
        help="a held-out protocol's first test cell at the smallest sizes (default: one past every cell a stored "
        "selection read); paper_held_out's is past each size's training and validation cells too",
    )
    parser.add_argument("--out", default="runs/out/select_defaults/nnformer_nb201.json")
    parser.add_argument(
        "--render", action="store_true", help="no fits: write the BENCHMARKS.md section of --out"
    )
    parser.add_argument(
        "--note",
        action="append",
        help="with --render: a paragraph the section prints after its tables (repeat for more; replaces "
        "the recorded notes)",
    )
    parser.add_argument(
        "--rebuild-json",
        action="store_true",
        help="no fits: write --out back from its BENCHMARKS.md section (when the JSON is lost)",
    )
    parser.add_argument(
        "--from-section",
        help="with --rebuild-json: the stored selection whose frozen choice --out rescores (its own section "
        "then selects nothing and holds only the rescored rows)",
    )
    return parser


def declared_argv(argv: list[str]) -> list[str]:
    """``argv`` with ``--declared NAME`` replaced by that selection's declared arguments (``DECLARED``)."""
    from benchmarks.defaults.declared import DECLARED

    if "--declared" not in argv:
        return argv
    at = argv.index("--declared")
    if at + 1 >= len(argv) or argv[at + 1] not in DECLARED:
        raise ConfigError(f"--declared needs one of: {', '.join(DECLARED)}")
    return [*argv[:at], *DECLARED[argv[at + 1]], *argv[at + 2 :]]


def main(argv: list[str] | None = None) -> int:
    import sys

    argv = declared_argv(list(argv if argv is not None else sys.argv[1:]))
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    section = f"select_defaults:{out.stem}"
    from benchmarks.report import write_section

    if args.rebuild_json:
        out.parent.mkdir(parents=True, exist_ok=True)
        source = args.from_section or section
        out.write_text(json.dumps(rescored(stored_result(source), source, section), indent=2))
        print(f"{source} -> {out}")
        return 0
    if args.render:
        if args.note:
            out.write_text(json.dumps({**json.loads(out.read_text()), "notes": args.note}, indent=2))
        result = with_leaky(json.loads(out.read_text()))
        write_section(
            section, report(result, result.get("command") or command_of(result, out)), data={"result": result}
        )
        return 0
    import torch

    torch.set_num_threads(1)
    git_commit()  # read now: later edits to the tree do not relabel this run
    command = "python -m benchmarks.select_defaults " + shlex.join(argv)
    if args.frozen:
        if not out.exists():
            raise ConfigError(f"--frozen reads the choice from {out}, which does not exist (select first)")
        result = json.loads(out.read_text())
        if args.beside and result.get("beside") != args.beside:
            result["beside"] = args.beside
            out.write_text(json.dumps(result, indent=2))
    else:
        sizes = [int(x) for x in _floats(args.sizes)]
        seeds = [int(x) for x in _floats(args.seeds)]
        pruned = [
            None if p.strip().lower() == "none" else p.strip().lower() in ("1", "true", "yes")
            for p in args.pruned.split(",")
            if p.strip()
        ]
        grid = candidates([int(x) for x in _floats(args.max_steps)], _floats(args.rank_weights), pruned)
        result = select(
            args.predictor,
            grid,
            sizes,
            seeds,
            args.procedure,
            args.block,
            args.folds,
            out_dir=out.parent / out.stem,
            space=args.space,
            train_metric=args.train_metric,
            base_options=_base_options(args.base_options),
        )
        # how the frozen choice will be scored is fixed with it
        result.update(command=command, test_metric=args.test_metric, test_subsample=args.test_subsample)
        if args.beside:
            result["beside"] = args.beside
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        print(json.dumps(result["chosen"]), f"-> {out}")
    if args.score_test:
        test_sizes = [int(x) for x in _floats(args.test_sizes or ",".join(map(str, result["sizes"])))]
        test_seeds = [int(x) for x in _floats(args.test_seeds or ",".join(map(str, result["seeds"])))]
        protocols = [p.strip() for p in args.test_protocols.split(",") if p.strip()]
        held_out = args.held_out
        if held_out is None and any(p in HELD_OUT_PROTOCOLS for p in protocols):
            held_out = _first_unread(result.get("space", "nasbench201"))
        for protocol in protocols:
            score_frozen(
                result,
                protocol,
                test_sizes,
                test_seeds,
                out.parent / out.stem,
                args.block,
                on_row=lambda row: save_frozen_row(out, row, command),
                held_out=held_out or 0,
            )
    result = with_leaky(json.loads(out.read_text()))  # with the rows of other protocols' runs too
    write_section(
        section, report(result, result.get("command") or command_of(result, out)), data={"result": result}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
