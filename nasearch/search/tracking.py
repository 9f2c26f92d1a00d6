"""Every evaluation is an Optuna trial: one study per seed, named ``<run name>/seed-<k>``.

The driver alone writes, one committed transaction per finished evaluation (SQLite by default,
``runs/out/<name>/study.db``; any SQLAlchemy URL works), so a ``kill -9`` loses no completed
evaluation. A trial carries the architecture's string form and key (user attributes ``arch``, ``key``),
every returned metric (``metrics``), the costs (``cost``) and, for a failure, the ``error``; where the
space has a categorical encoding (NB201) the trial's ``params`` are that encoding.
``optuna-dashboard <storage>`` shows it all.
Resuming replays the stored trials (in order) into a fresh optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasearch.api import CategoricalEncoding, Result
from nasearch.api.errors import ConfigError, StorageError, one_line
from nasearch.data.safeio import cause, storage_errors
from nasearch.search.dashboard import intermediate_values, set_metric_names, stamp_times

if TYPE_CHECKING:
    import sqlite3

    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.storages import BaseStorage

COMPLETE = "COMPLETE"
FAIL = "FAIL"


@dataclass
class Record:
    """One stored evaluation, as read back from the study."""

    number: int
    arch: str
    key: str
    state: str
    metrics: dict[str, float] = field(default_factory=dict)
    simulated_seconds: float = 0.0
    cost_seconds: float = 0.0
    error: str | None = None
    #: the trial's other user attributes (``failure`` kind, ``node``, ``optimizer_state`` ...)
    attrs: dict[str, Any] = field(default_factory=dict)

    def result(self) -> Result | None:
        """The stored Result (None for a failure): what resume tells the optimizer."""
        if self.state != COMPLETE:
            return None
        return Result(dict(self.metrics), self.cost_seconds, self.simulated_seconds)


def storage_url(storage: str | None, run_dir: str | Path) -> str:
    """``None`` -> ``sqlite:///<run_dir>/study.db``; URLs pass; ``"memory"`` keeps trials in this
    process only (fast, for benchmarks; nothing to resume). A plain path is refused (it would
    silently become a SQLite file wherever the command runs)."""
    if not storage:
        path = Path(run_dir).resolve() / "study.db"
    elif storage == "memory":
        return storage
    elif "://" in storage:
        return storage
    else:
        raise ConfigError(
            f"storage: {storage!r} is not a URL; write one, e.g. sqlite:///{Path(storage).expanduser().resolve()} "
            "(or leave storage out: the run folder's own study.db)"
        )
    with storage_errors(f"folder {str(path.parent)!r}", "create the storage"):
        path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def study_name(run_name: str, seed: int, label: str | None = None) -> str:
    """``<run name>/seed-<k>``, or ``<run name>/<label>/seed-<k>`` for one of several optimizers."""
    return f"{run_name}/{label}/seed-{seed}" if label else f"{run_name}/seed-{seed}"


_STORAGES: dict[str, BaseStorage] = {}


def open_storage(url: str) -> BaseStorage:
    """One Optuna RDB storage per URL in this process (SQLite waits on locks instead of failing)."""
    if url not in _STORAGES:
        import optuna

        if url == "memory":
            _STORAGES[url] = optuna.storages.InMemoryStorage()
            return _STORAGES[url]
        engine: dict[str, object] | None = None
        if url.startswith("sqlite"):
            engine = {"connect_args": {"timeout": 60}}
        try:
            storage = optuna.storages.RDBStorage(url, engine_kwargs=engine)
            if url.startswith("sqlite"):
                _sqlite_wal(storage)
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many kinds
            raise StorageError(f"storage {url!r} cannot be opened: {cause(exc)}") from None
        _STORAGES[url] = storage
    return _STORAGES[url]


def _sqlite_wal(storage: optuna.storages.RDBStorage) -> None:
    """Write-ahead logging with ``synchronous=NORMAL``: a committed trial survives ``kill -9`` of
    the process (only an OS crash or power loss can drop the last commits), at ~2.5x the speed
    of SQLite's default rollback journal."""
    from sqlalchemy import event

    def on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(storage.engine, "connect", on_connect)
    storage.engine.dispose()  # reconnect so every pooled connection gets the pragmas


def _categorical_distributions(space: object) -> dict[str, BaseDistribution] | None:
    """Optuna distributions of a space's categorical encoding (NB201: one per edge), so trials
    carry ``params`` and optuna-dashboard's slice and importance plots work; None without one."""
    if not isinstance(space, CategoricalEncoding):
        return None
    from optuna.distributions import CategoricalDistribution

    return {
        name: CategoricalDistribution(list(options)) for name, options in space.categorical_choices().items()
    }


class StudyTracker:
    """Writes and reads the trials of one study.

    ``objectives`` are ``(metric, maximize)`` pairs: they become the study's directions and are
    checked on resume, so a run folder is never resumed with a different objective.
    """

    def __init__(
        self,
        url: str,
        name: str,
        objectives: Sequence[tuple[str, bool]],
        attrs: Mapping[str, object] | None = None,
        space: Any = None,
    ) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.url = url
        self.name = name
        self.objectives = [(str(m), bool(mx)) for m, mx in objectives]
        with storage_errors(f"storage {url}", f"open study {name!r} in"):
            self.study = optuna.create_study(
                storage=open_storage(url),
                study_name=name,
                directions=["maximize" if mx else "minimize" for _, mx in self.objectives],
                load_if_exists=True,
            )
            self._set_attrs(attrs)
            set_metric_names(self.study, self.objectives)
        self._space = space
        self._distributions = _categorical_distributions(space)

    def _set_attrs(self, attrs: Mapping[str, object] | None) -> None:
        stored = self.study.user_attrs.get("objectives")
        wanted = [[m, mx] for m, mx in self.objectives]
        if stored is not None and stored != wanted:
            raise ConfigError(
                f"study {self.name!r} in {self.url} was run with objectives {stored}, not {wanted}; "
                "use another --out folder or storage to start a new run"
            )
        if stored is None:
            self.study.set_user_attr("objectives", wanted)
        for key, value in (attrs or {}).items():
            if self.study.user_attrs.get(key) != value:
                self.study.set_user_attr(key, value)

    def set_attrs(self, attrs: Mapping[str, object]) -> None:
        """Store study user attributes (the run's checks passed); the objectives are checked again."""
        with storage_errors(f"storage {self.url}", f"write study {self.name!r} in"):
            self._set_attrs(attrs)

    def records(self) -> list[Record]:
        """Every finished trial (COMPLETE or FAIL), in the order they were recorded."""
        with storage_errors(f"storage {self.url}", f"read study {self.name!r} from"):
            return read_records(self.study)

    def record(
        self,
        arch: Hashable,
        result: Result | None,
        error: str | None = None,
        user_attrs: dict[str, Any] | None = None,
        **attrs: float,
    ) -> Record:
        """Store one evaluation (one committed write); a missing or NaN objective is a failure.
        ``attrs`` are extra timings stored with the costs (e.g. ``wall_seconds``); ``user_attrs``
        more trial attributes (the failure kind, the Ray node, the optimizer's state)."""
        import optuna

        space = self._space
        arch_str = space.to_str(arch)
        key = space.key(arch)
        metrics = {k: float(v) for k, v in (result.metrics if result else {}).items()}
        values: list[float] | None = None
        if result is not None:
            found = [metrics.get(m) for m, _ in self.objectives]
            bad = [
                _bad_value(m, v)
                for (m, _), v in zip(self.objectives, found)
                if v is None or not math.isfinite(v)
            ]
            if bad:
                error = f"objective {'; '.join(bad)}"
            else:
                values = [float(v) for v in found if v is not None]
        state = COMPLETE if values is not None else FAIL
        cost = {
            "simulated_seconds": float(result.simulated_seconds) if result else 0.0,
            "cost_seconds": float(result.cost_seconds) if result else 0.0,
            **{k: float(v) for k, v in attrs.items()},
        }
        # few attributes on purpose: each is a separate row write in Optuna's RDB storage
        extra = dict(user_attrs or {})
        user_attrs = {
            **extra,
            "arch": arch_str,
            "key": key,
            "metrics": {k: (v if math.isfinite(v) else None) for k, v in metrics.items()},
            "cost": cost,
        }
        if error:
            user_attrs["error"] = one_line(error)  # no terminal colour codes, at most 2000 characters
        params = space.to_categorical(arch) if self._distributions else None
        trial = optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE if state == COMPLETE else optuna.trial.TrialState.FAIL,
            values=values,
            params=params,
            distributions=self._distributions,
            user_attrs=user_attrs,
            intermediate_values=intermediate_values(result.info if result else None),
        )
        stamp_times(trial, attrs.get("wall_seconds"), result.info if result else None)
        with storage_errors(f"storage {self.url}", "record a trial in"):
            self.study.add_trial(trial)
        return Record(
            -1,
            arch_str,
            key,
            state,
            metrics,
            cost["simulated_seconds"],
            cost["cost_seconds"],
            user_attrs.get("error"),
            extra,
        )


def _bad_value(metric: str, value: float | None) -> str:
    """Why an objective value cannot be recorded: missing, NaN or infinite."""
    if value is None:
        return f"metric {metric!r} is missing from the result"
    return f"metric {metric!r} is {'NaN' if math.isnan(value) else 'infinite'}: the evaluation produced no usable value"


def read_records(study: optuna.Study) -> list[Record]:
    """The finished trials of an Optuna study as Records, in trial-number order."""
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    out = []
    for t in sorted(study.get_trials(deepcopy=False, states=states), key=lambda t: t.number):
        ua = t.user_attrs
        if "arch" not in ua:
            continue
        out.append(
            Record(
                number=t.number,
                arch=ua["arch"],
                key=ua.get("key", ""),
                state=COMPLETE if t.state == optuna.trial.TrialState.COMPLETE else FAIL,
                metrics={
                    k: (float("nan") if v is None else float(v)) for k, v in (ua.get("metrics") or {}).items()
                },
                simulated_seconds=float((ua.get("cost") or {}).get("simulated_seconds", 0.0)),
                cost_seconds=float((ua.get("cost") or {}).get("cost_seconds", 0.0)),
                error=ua.get("error"),
                attrs={k: v for k, v in ua.items() if k not in _CORE_ATTRS},
            )
        )
    return out


#: the user attributes every trial has (Record fields); the rest go to ``Record.attrs``
_CORE_ATTRS = frozenset({"arch", "key", "metrics", "cost", "error"})


def load_study(url: str, name: str) -> optuna.Study:
    """An existing study, read-only use (curves, reports)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=open_storage(url))


def study_names(url: str) -> list[str]:
    """Names of every study in a storage."""
    import optuna

    return [s.study_name for s in optuna.get_all_study_summaries(open_storage(url), include_best_trial=False)]
