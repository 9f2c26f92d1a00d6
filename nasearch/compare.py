"""``nasearch compare``: predictor sample-efficiency curves on a benchmark's real tables.

For each predictor x training size x seed, a *split protocol* draws training and test cells,
the predictor is fitted on the training cells and scored on the test cells (Kendall tau-b,
Spearman rho; MAPE and Acc(10%) for latency-like targets). Rows go to ``results.csv`` (written
as they come, so a stopped run keeps what it measured) and a plot to ``curves.png``.

Split protocols live in ``PROTOCOLS`` (name -> function); another module can add one with
``@register_protocol("name")`` (listed in ``LAZY_PROTOCOLS`` so it is imported on first use) or
the config can name a ``"package.module:function"``. A
protocol is called as ``protocol(task, size, seed, config)`` and yields ``Split``s:

- ``task`` is a ``Task``: ``task.graphs`` (every cell of the space as an ArchGraph, in the
  space's enumeration order; ``task.graphs_at(indices)`` builds only those), ``task.column(metric)`` (a benchmark column in the same order),
  ``task.space`` and ``task.benchmark``;
- ``config`` is the whole ``CompareConfig``; ``config.protocol_options`` is a free mapping for the
  protocol's own knobs (e.g. the devices of a leave-one-device-out protocol);
- a ``Split`` holds train/test cell indices, their targets, optional per-cell ``hardware`` lists
  (passed to ``fit``/``predict`` as ``hardware=``: hardware-conditioned predictors), and
  ``info``: extra CSV columns (e.g. ``{"device": "pixel3"}``). A protocol may yield several
  splits per (size, seed), e.g. one per held-out device; splits with equal ``fit_key`` share one fit.

Validation cells (``Split.validation``, for checkpoint selection) are never test cells: the built-in
protocols keep them apart, and ``run_compare`` refuses a split that scores one. Every row ends with
``options`` (the resolved predictor options and the config keys that change a score, as JSON),
``options_hash``, ``version`` and ``commit`` (``nasearch.provenance``), so a table can refuse rows
made under other settings.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from nasearch.config import Source, apply_overrides, build_dataclass, load_yaml
from nasearch.errors import ConfigError, NasearchError
from nasearch.graph import ArchGraph
from nasearch.module_paths import import_module
from nasearch.provenance import provenance
from nasearch.space_calls import to_graph

CSV_COLUMNS = [
    "predictor", "protocol", "train_size", "seed", "kendall_tau", "spearman", "mape", "acc10",
    "fit_seconds", "predict_seconds", "n_test", "n_validation", "train_metric", "test_metric",
    "kendall_tau_unseen", "n_unseen",
]  # fmt: skip
#: the last columns of every row: where it came from (``nasearch.provenance``)
TRACE_COLUMNS = ["options", "options_hash", "version", "commit"]


@dataclasses.dataclass
class CompareConfig:
    """The YAML schema of ``nasearch compare`` (every key is documented in the README, section "Predictors")."""

    name: str
    sizes: list[int]
    predictors: dict[str, Any]
    space: str = "nasbench201"
    space_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    data_dir: str | None = None
    #: the target the predictors train on
    train_metric: str = "cifar10-valid/valid_accuracy"
    #: the target they are scored against (default: train_metric)
    test_metric: str | None = None
    protocol: str = "paper"
    protocol_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0])
    #: score MAPE and Acc(10%) too; None = yes for ``latency/...`` test metrics
    relative_metrics: bool | None = None
    #: score on a seeded random subset of this many test cells (None: all of them)
    test_subsample: int | None = None
    #: torch CPU threads for the fits (None: torch's default)
    threads: int | None = None
    #: cells (on the train metric) given to predictors that take an ``eval_set``, to pick their
    #: best checkpoint: the next N cells after the training ones (paper protocol; the paper's N
    #: is 1024) or N random non-training cells (random protocol). 0: none.
    validation_size: int = 0

    def __post_init__(self) -> None:
        if not self.sizes or any(s < 2 for s in self.sizes):
            raise ValueError(f"sizes must be a non-empty list of integers >= 2, got {self.sizes}")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")
        if not self.predictors:
            raise ValueError("predictors must name at least one predictor")
        if self.test_subsample is not None and self.test_subsample < 2:
            raise ValueError("test_subsample must be >= 2 or null")
        if self.validation_size != 0 and self.validation_size < 2:
            raise ValueError(f"validation_size must be 0 (none) or >= 2, got {self.validation_size}")

    @property
    def target_metric(self) -> str:
        """The metric the test cells are scored on."""
        return self.test_metric or self.train_metric

    @property
    def relative(self) -> bool:
        """Whether MAPE and Acc(10%) apply."""
        if self.relative_metrics is not None:
            return self.relative_metrics
        return self.target_metric.startswith("latency/")


@dataclasses.dataclass
class Split:
    """One train/test split: cell indices into ``task.graphs``, targets, optional hardware."""

    train: np.ndarray
    test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    hardware_train: list[Any] | None = None
    hardware_test: list[Any] | None = None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: cells for checkpoint selection (``eval_set``) and their train-metric targets, if any
    validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None
    #: splits of one (size, seed) with equal ``fit_key`` train on identical rows: ``run_compare``
    #: fits once and scores the same model on each one's test cells (e.g. the settings of one chip)
    fit_key: Any = None


class Task:
    """A search space with its benchmark: all cells as ArchGraphs and benchmark columns."""

    def __init__(self, space: Any, benchmark: Any) -> None:
        self.space = space
        self.benchmark = benchmark
        self._columns: dict[str, np.ndarray] = {}

    @cached_property
    def archs(self) -> list[Any]:
        """Every architecture in the space's enumeration order (the benchmark's column order)."""
        enum = getattr(self.space, "enumerate", None)
        if not callable(enum):
            raise ConfigError(
                f"nasearch compare needs an enumerable search space; {type(self.space).__name__} is not "
                "(nasearch compare --from-run RUN_DIR compares on the cells a search of it evaluated)"
            )
        return list(enum())

    @cached_property
    def graphs(self) -> list[ArchGraph]:
        """Every cell as an ArchGraph, in enumeration order (``graphs_at`` builds only some)."""
        return self.graphs_at(np.arange(len(self)))

    def graphs_at(self, indices: Iterable[int]) -> list[ArchGraph]:
        """The cells at ``indices`` as ArchGraphs, built on first use and cached."""
        cache = self.__dict__.setdefault("_graph_cache", {})
        out = []
        for i in indices:
            i = int(i)
            g = cache.get(i)
            if g is None:
                g = cache[i] = to_graph(self.space, self.archs[i])  # errors name space and cell
            out.append(g)
        return out

    def __len__(self) -> int:
        return len(self.archs)

    def column(self, metric: str) -> np.ndarray:
        """``metric`` for every cell (cached); a ConfigError if the benchmark lacks it."""
        if metric not in self._columns:
            known = self.benchmark.metrics()
            if metric not in known:
                import difflib

                close = difflib.get_close_matches(metric, known, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ConfigError(f"the benchmark has no metric {metric!r}{hint}")
            values = np.asarray(self.benchmark.column(metric), dtype=np.float64)
            if values.size != len(self):
                raise ConfigError(f"metric {metric!r} has {values.size} values for {len(self)} cells")
            self._columns[metric] = values
        return self._columns[metric]


Protocol = Callable[[Task, int, int, CompareConfig], Iterable[Split]]
PROTOCOLS: dict[str, Protocol] = {}
#: protocols defined in other modules, imported on first use (name -> "module:function")
LAZY_PROTOCOLS: dict[str, str] = {
    "per_device": "predictors.zero_shot:per_device",
    "leave_one_device_out": "predictors.zero_shot:leave_one_device_out",
    "leave_one_setting_out": "predictors.zero_shot:leave_one_device_out",
    "leave_one_chip_out": "predictors.zero_shot:leave_one_chip_out",
}


def register_protocol(name: str) -> Callable[[Protocol], Protocol]:
    """Decorator: make a split protocol available to ``nasearch compare`` under ``name``."""

    def deco(fn: Protocol) -> Protocol:
        PROTOCOLS[name] = fn
        return fn

    return deco



def get_protocol(name: str) -> Protocol:
    """A registered protocol, or a ``package.module:function`` path."""
    if name in PROTOCOLS:
        return PROTOCOLS[name]
    if name in LAZY_PROTOCOLS:
        name = LAZY_PROTOCOLS[name]
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(import_module(module), attr)  # also from the config's folder
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"split protocol {name!r} cannot be loaded: {exc}") from exc
    known = ", ".join(sorted(set(PROTOCOLS) | set(LAZY_PROTOCOLS)))
    raise ConfigError(f"unknown split protocol {name!r} (known: {known}; or 'module:function')")


def _finite(task: Task, idx: np.ndarray, *metrics: str) -> np.ndarray:
    """``idx`` without cells where any of ``metrics`` is NaN (unrecorded)."""
    keep = np.ones(idx.size, dtype=bool)
    for m in metrics:
        keep &= np.isfinite(task.column(m)[idx])
    return idx[keep]


def test_cells(task: Task, candidates: np.ndarray, seed: int, config: CompareConfig) -> np.ndarray:
    """The scored cells among ``candidates``: those with a finite target, subsampled (seeded) to
    ``config.test_subsample``. A protocol passes only cells outside training and validation
    (the paper protocol: outside validation; its test set contains the training cells)."""
    test = _finite(task, candidates, config.target_metric)
    if config.test_subsample is not None and test.size > config.test_subsample:
        rng = np.random.default_rng(10_000 + seed)
        test = np.sort(rng.choice(test, size=config.test_subsample, replace=False))
    return test


test_cells.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever imports it


@register_protocol("paper")
def paper_protocol(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """Train on the first ``size`` cells in official index order; test on all cells.

    The NN-Former / NAR-Former protocol. With ``validation_size`` (theirs is 1024) the next cells
    are the validation set that picks the checkpoint, and they leave the test set (the papers
    keep them in it: selecting on cells that are scored would leak). The training cells stay in
    the test set as the papers have it; the ``kendall_tau_unseen`` column scores the cells outside
    both. ``seed`` varies only the fit.
    """
    n = len(task)
    if size + config.validation_size >= n:
        raise ConfigError(f"training size {size} + validation_size is not smaller than the space ({n} cells)")
    train = _finite(task, np.arange(size), config.train_metric)
    validation = _finite(task, np.arange(size, size + config.validation_size), config.train_metric)
    test = test_cells(task, np.setdiff1d(np.arange(n), validation), seed, config)
    yield _split(task, config, train, test, validation)


def _split(task: Task, config: CompareConfig, train: np.ndarray, test: np.ndarray, validation: np.ndarray) -> Split:
    """A Split with targets gathered from the task's columns (no validation set when it is empty)."""
    y_train = task.column(config.train_metric)
    return Split(
        train, test, y_train[train], task.column(config.target_metric)[test],
        validation=validation if validation.size else None,
        y_validation=y_train[validation] if validation.size else None,
    )  # fmt: skip


@register_protocol("random")
def random_protocol(task: Task, size: int, seed: int, config: CompareConfig) -> Iterator[Split]:
    """Train on ``size`` cells drawn at random with ``seed``; with ``validation_size``, N other random
    cells pick the checkpoint; test on every cell outside both."""
    n = len(task)
    if size >= n:
        raise ConfigError(f"training size {size} is not smaller than the space ({n} cells)")
    candidates = _finite(task, np.arange(n), config.train_metric)
    if size + config.validation_size >= candidates.size:
        raise ConfigError(f"training size {size} + validation_size is not smaller than the space ({n} cells)")
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(candidates, size=size, replace=False))
    unused = np.setdiff1d(candidates, train, assume_unique=True)
    validation = np.sort(rng.choice(unused, size=config.validation_size, replace=False))
    rest = np.setdiff1d(np.arange(n), np.concatenate([train, validation]))
    test = test_cells(task, rest, seed, config)
    yield _split(task, config, train, test, validation)


# --- config -------------------------------------------------------------------------------------


def predictor_specs(config: CompareConfig, source: Source) -> dict[str, tuple[str, dict[str, Any]]]:
    """label -> (registry name, options); a block may set ``name:`` to reuse a predictor under another label."""
    from nasearch.options import check_options
    from nasearch.registry import PREDICTORS

    specs: dict[str, tuple[str, dict[str, Any]]] = {}
    for label, block in config.predictors.items():
        where = source.where(f"predictors.{label}")
        if block is None:
            block = {}
        if not isinstance(block, Mapping):
            raise ConfigError(f"{where}: a predictor block must be a mapping of options, got {block!r}")
        options = dict(block)
        name = str(options.pop("name", label))
        try:
            factory = PREDICTORS.get(name)
            check_options(factory, options, f"predictor {name!r}")
            PREDICTORS.create(name, **options)  # constructors validate their values: fail before any fit
        except NasearchError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        specs[str(label)] = (name, options)
    return specs


def load_config(path: str, overrides: list[str] | None = None) -> tuple[CompareConfig, Source]:
    """Read, override and validate a compare YAML."""
    data, source = load_yaml(path)
    data = apply_overrides(data, overrides or [], source)
    return build_dataclass(CompareConfig, data, source), source


def build_task(config: CompareConfig) -> Task:
    """The space named by the config, with its benchmark."""
    from nasearch.options import call_with_options
    from nasearch.registry import SEARCH_SPACES

    options = dict(config.space_options)
    if config.data_dir is not None:
        options.setdefault("data_dir", config.data_dir)
    space = call_with_options(SEARCH_SPACES.get(config.space), options, f"search space {config.space!r}")
    bench = getattr(space, "benchmark", None)
    if not callable(bench):
        raise ConfigError(
            f"search space {config.space!r} has no benchmark tables to compare predictors on; "
            "nasearch compare --from-run RUN_DIR compares them on the cells a search of it evaluated"
        )
    return Task(space, bench())


# --- running ------------------------------------------------------------------------------------


def score(y_true: np.ndarray, y_pred: np.ndarray, relative: bool) -> dict[str, float]:
    """The metrics of one fit (MAPE and Acc(10%) only for relative targets)."""
    from predictors.metrics import evaluate

    return evaluate(y_true, y_pred, relative=relative)


def run_compare(
    config: CompareConfig,
    specs: Mapping[str, tuple[str, Mapping[str, Any]]],
    out_dir: Path,
    task: Task | None = None,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Fit and score every predictor x size x seed x split; write results.csv as rows come."""
    from nasearch.registry import PREDICTORS
    from predictors.base import accepts_eval_set, fit_predictor

    if config.threads is not None:
        import torch

        torch.set_num_threads(config.threads)
    task = task or build_task(config)
    protocol = get_protocol(config.protocol)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "results.csv"
    rows: list[dict[str, Any]] = []
    columns = list(CSV_COLUMNS)
    handle = csv_path.open("w", newline="")
    try:
        writer: csv.DictWriter[str] | None = None
        fitted: dict[str, tuple[Any, Any, float, Any]] = {}
        for size in config.sizes:
            for seed in config.seeds:
                for split in protocol(task, size, seed, config):
                    check_split(split, config.protocol)
                    for label, (name, options) in specs.items():
                        reuse_key = None if split.fit_key is None else (size, seed, split.fit_key)
                        if reuse_key is not None and fitted.get(label, (None,))[0] == reuse_key:
                            _, model, fit_s, eval_set = fitted[label]
                        else:
                            model = PREDICTORS.create(name, **_with_seed(PREDICTORS.get(name), options, seed))
                            start = time.perf_counter()
                            eval_set = None
                            if split.validation is not None and accepts_eval_set(model):
                                eval_set = (task.graphs_at(split.validation), split.y_validation)
                            fit_predictor(
                                model, task.graphs_at(split.train), split.y_train, split.hardware_train, eval_set
                            )
                            fit_s = time.perf_counter() - start
                            fitted[label] = (reuse_key, model, fit_s, eval_set)  # only the latest fit is kept
                        start = time.perf_counter()
                        pred = model.predict(task.graphs_at(split.test), hardware=split.hardware_test)
                        pred_s = time.perf_counter() - start
                        metrics = score(split.y_test, pred, config.relative)
                        unseen = unseen_mask(split)
                        row = {
                            "predictor": label, "protocol": config.protocol, "train_size": size,
                            "seed": seed, "mape": "", "acc10": "", **metrics,
                            "fit_seconds": round(fit_s, 3), "predict_seconds": round(pred_s, 3),
                            "n_test": int(split.test.size),
                            "n_validation": 0 if eval_set is None else len(eval_set[0]),
                            "train_metric": config.train_metric,
                            "test_metric": config.target_metric,
                            "kendall_tau_unseen": _tau(split.y_test[unseen], pred[unseen]),
                            "n_unseen": int(unseen.sum()), **split.info,
                            **provenance(row_options(config, name, options)),
                        }  # fmt: skip
                        if writer is None:
                            columns += [k for k in split.info if k not in columns] + TRACE_COLUMNS
                            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
                            writer.writeheader()
                        writer.writerow(row)
                        handle.flush()
                        rows.append(row)
                        extra = "".join(f" {k}={v}" for k, v in split.info.items())
                        rel = f" mape={metrics['mape']:.2f}% acc10={metrics['acc10']:.1f}%" if config.relative else ""
                        log(
                            f"{label:>16} n={size:<6} seed={seed}{extra} tau={metrics['kendall_tau']:.4f} "
                            f"rho={metrics['spearman']:.4f}{rel} fit={fit_s:.1f}s"
                        )
    finally:
        handle.close()
    return rows


def check_split(split: Split, protocol: str = "") -> None:
    """Refuse a split whose validation cells are also scored (checkpoints picked on test cells)."""
    if split.validation is None:
        return
    shared = np.intersect1d(split.validation, split.test)
    if shared.size:
        raise ConfigError(
            f"split protocol {protocol!r} scores {shared.size} of its validation cells (e.g. cell {int(shared[0])}): "
            "validation and test cells must be disjoint"
        )


def unseen_mask(split: Split) -> np.ndarray:
    """Which test cells are outside training and validation (all of them, except under the paper
    protocol, whose test set keeps the training cells)."""
    seen = split.train if split.validation is None else np.concatenate([split.train, split.validation])
    return ~np.isin(split.test, seen)


def _tau(y_true: np.ndarray, y_pred: np.ndarray) -> float | str:
    """Kendall tau-b, or '' when fewer than 2 cells."""
    from predictors.metrics import kendall_tau

    return kendall_tau(y_true, y_pred) if y_true.size >= 2 else ""


def row_options(config: CompareConfig, name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """What a results.csv row was measured with: the predictor's options over its constructor's
    defaults (the fit seed left out: it has its own column) and every config key that changes a
    score. Two rows with equal ``options_hash`` differ only in size, seed and held-out device."""
    from nasearch.provenance import resolved_options
    from nasearch.registry import PREDICTORS

    predictor = {k: v for k, v in resolved_options(PREDICTORS.get(name), options).items() if k != "seed"}
    # ``holdout`` picks which device a row tests (its ``device`` column), as size and seed pick theirs
    protocol_options = {k: v for k, v in config.protocol_options.items() if k != "holdout"}
    return {
        "predictor": name, "predictor_options": predictor, "space": config.space,
        "space_options": dict(config.space_options), "protocol": config.protocol,
        "protocol_options": protocol_options, "train_metric": config.train_metric,
        "test_metric": config.target_metric, "validation_size": config.validation_size,
        "test_subsample": config.test_subsample,
    }  # fmt: skip


def _with_seed(factory: Any, options: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """``options`` plus ``seed=seed`` when the predictor takes a seed (the run's seed wins)."""
    from nasearch.options import accepted_options

    named, var_kw = accepted_options(factory)
    return {**options, "seed": seed} if ("seed" in named or var_kw) else dict(options)


def plot_curves(rows: list[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Metric vs training size (log x), mean +- std over seeds, one line per predictor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.DataFrame(rows)
    metrics = ["kendall_tau"]
    if "mape" in frame and pd.to_numeric(frame["mape"], errors="coerce").notna().any():
        metrics += ["mape", "acc10"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        frame[metric] = pd.to_numeric(frame[metric], errors="coerce")
        for label, group in frame.groupby("predictor", sort=False):
            stats = group.groupby("train_size")[metric].agg(["mean", "std"]).fillna(0.0)
            x = stats.index.to_numpy(dtype=float)
            ax.plot(x, stats["mean"], marker="o", label=str(label))
            ax.fill_between(x, stats["mean"] - stats["std"], stats["mean"] + stats["std"], alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("training cells")
        ax.set_ylabel({"kendall_tau": "Kendall tau-b", "mape": "MAPE (%)", "acc10": "Acc(10%) (%)"}[metric])
        ax.grid(True, alpha=0.3)
    axes[0][0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _csv_list(text: str | None, cast: Callable[[str], Any], what: str) -> list[Any] | None:
    if text is None:
        return None
    try:
        return [cast(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ConfigError(f"--{what} {text!r}: expected a comma-separated list") from None


def cli_compare(args: argparse.Namespace) -> int:
    """``nasearch compare CONFIG.yaml [--predictors a,b] [--sizes ..] [--seeds ..] [--protocol ..] [--out DIR]``."""
    if getattr(args, "from_run", None):  # the cells of a finished run instead of a table
        from nasearch.compare_from_run import cli_compare_from_run

        return cli_compare_from_run(args)
    if not args.config:
        raise ConfigError("nasearch compare needs a CONFIG.yaml or --from-run RUN_DIR")
    config, source = load_config(args.config, list(getattr(args, "overrides", []) or []))
    sizes = _csv_list(args.sizes, int, "sizes")
    seeds = _csv_list(args.seeds, int, "seeds")
    names = _csv_list(args.predictors, str, "predictors")
    if sizes:
        config.sizes = sizes
    if seeds:
        config.seeds = seeds
    if args.protocol:
        config.protocol = args.protocol
    specs = predictor_specs(config, source)
    if names:
        unknown = [n for n in names if n not in specs]
        from nasearch.registry import PREDICTORS

        for n in unknown:  # a registry name not in the config: run it with default options
            PREDICTORS.get(n)
            specs[n] = (n, {})
        specs = {n: specs[n] for n in names}
    out_dir = Path(args.out) if args.out else Path("runs") / "out" / config.name
    rows = run_compare(config, specs, out_dir)
    plot_curves(rows, out_dir / "curves.png", f"{config.name} ({config.protocol} protocol, {config.target_metric})")
    print(f"wrote {out_dir / 'results.csv'} and {out_dir / 'curves.png'} ({len(rows)} fits)")
    return 0
