"""Scheduled searches retry on resume the jobs that failed outside their cell (timed out, worker lost,
crashed), up to ``parallel.cell_tries`` tries in all, as unscheduled searches do: a stored lost job
(the state a Ray run leaves) is evaluated again by the resumed search on the real NB201 tables, and so is
a job that ran past ``parallel.timeout_s`` on a real Ray worker."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from nasearch.config.loader import Source
from nasearch.config.run_schema import parse_run_config
from nasearch.schedulers.store import FIDELITIES_ATTR
from nasearch.search.loop import run
from nasearch.search.tracking import load_study, storage_url

METRIC = "cifar10-valid/valid_accuracy"


def _cfg(cell_tries: int = 2) -> Any:
    data = {
        "name": "retry",
        "seeds": [0],
        "search_space": {"name": "nasbench201"},
        "evaluator": {"name": "benchmark", "metric": METRIC},
        "optimizer": {"name": "random"},
        "scheduler": {"name": "asha", "eta": 3},
        "budget": {"simulated_seconds": 12_000},
        "parallel": {"backend": "serial", "workers": 2, "cell_tries": cell_tries},
    }
    return parse_run_config(data, Source("<test>"))


def _latest(folder: Path) -> dict[str, Any]:
    """Each cell's latest trial: ``{key: (trial_id, state, events)}``."""
    trials = load_study(storage_url(None, folder), "retry/seed-0").get_trials(deepcopy=False)
    out = {}
    for t in sorted(trials, key=lambda t: t.number):
        out[t.user_attrs["key"]] = (t._trial_id, t.state.name, t.user_attrs[FIDELITIES_ATTR])
    return out


def _lose(folder: Path, trial_id: int, events: dict[str, Any], tries: int, kind: str | None = "lost") -> None:
    """Rewrite a stored 12-epoch result as a job lost on its worker (what a Ray run records; ``kind``
    None: a failure of the cell itself)."""
    lost = dict(events["12"])
    for k in ("metrics", "value", "cost_seconds"):
        lost.pop(k, None)
    lost.update({"error": "the worker running it died", "value": None, "sim": 0.0})
    if kind is not None:
        lost["failure"] = kind
    if tries > 1:
        lost["tries"] = tries
    with sqlite3.connect(folder / "study.db") as con:
        con.execute(
            "update trial_user_attributes set value_json = ? where trial_id = ? and key = ?",
            (json.dumps({**events, "12": lost}), trial_id, FIDELITIES_ATTR),
        )
        con.execute("update trials set state = 'FAIL' where trial_id = ?", (trial_id,))


def test_a_lost_job_is_retried_on_resume_until_its_tries_are_spent(tmp_path):
    run(_cfg(), tmp_path, progress=False, log=lambda m: None)
    cells = _latest(tmp_path)
    key, (trial_id, _, events) = next((k, c) for k, c in cells.items() if set(c[2]) == {"12"})
    value = events["12"]["value"]
    _lose(tmp_path, trial_id, events, tries=1)

    (report,) = run(_cfg(), tmp_path, progress=False, log=lambda m: None)
    assert report.retried == {"lost": 1} and report.retries_spent == 0
    new_id, _, again = _latest(tmp_path)[key]
    assert new_id != trial_id  # a FAIL trial is final: the retry is a new trial of the cell
    assert again["12"]["value"] == value and again["12"]["tries"] == 2 and "error" not in again["12"]

    _lose(tmp_path, new_id, again, tries=2)  # lost again: its two tries are spent
    (report,) = run(_cfg(), tmp_path, progress=False, log=lambda m: None)
    assert report.retried == {} and report.retries_spent == 1
    assert _latest(tmp_path)[key][0] == new_id
    # the failure the resume replays is in the report, as for an unscheduled search
    assert report.failures == 1 and report.failure_kinds == {"lost": 1}
    assert report.errors[0]["error"] == "the worker running it died"


@pytest.mark.parametrize(("cell_tries", "kind", "spent"), [(1, "lost", 1), (2, None, 0)])
def test_no_retry_with_one_try_nor_for_the_cells_own_failure(tmp_path, cell_tries, kind, spent):
    run(_cfg(cell_tries), tmp_path, progress=False, log=lambda m: None)
    cells = _latest(tmp_path)
    key, (trial_id, _, events) = next((k, c) for k, c in cells.items() if set(c[2]) == {"12"})
    _lose(tmp_path, trial_id, events, tries=1, kind=kind)
    (report,) = run(_cfg(cell_tries), tmp_path, progress=False, log=lambda m: None)
    assert report.retried == {} and report.retries_spent == spent
    assert _latest(tmp_path)[key][0] == trial_id
    assert report.failures == 1 and report.failure_kinds == {kind or "cell": 1}


@pytest.fixture
def ray_session(ray_local: Any) -> Any:
    """The session's local Ray (2 CPUs); the test evaluator travels to its workers by value."""
    import mf_helpers

    ray_local.cloudpickle.register_pickle_by_value(mf_helpers)
    return ray_local


def _ray_cfg(starts: Path, hang_at: int, timeout_s: float | None, queries: int = 6) -> Any:
    evaluator = {"name": "mf_helpers:HangsOnce", "metric": METRIC, "starts": str(starts), "hang_at": hang_at}
    data = {
        "name": "retry",
        "seeds": [0],
        "search_space": {"name": "nasbench201"},
        "evaluator": evaluator,
        "optimizer": {"name": "random"},
        "scheduler": {"name": "asha", "eta": 3},
        "budget": {"queries": queries},
        "parallel": {"backend": "ray", "workers": 2, "resources": {"num_cpus": 1}, "timeout_s": timeout_s},
    }
    return parse_run_config(data, Source("<test>"))


def _jobs(folder: Path) -> dict[str, dict[str, Any]]:
    """Each job's event in its cell's latest trial: ``{"key@fidelity": event}``."""
    return {f"{key}@{f}": e for key, (_, _, events) in _latest(folder).items() for f, e in events.items()}


@pytest.mark.ray
def test_a_job_timed_out_on_a_ray_worker_is_retried_on_resume(ray_session: Any, tmp_path: Path) -> None:
    """A scheduled job that runs past ``parallel.timeout_s`` on a Ray worker is cancelled (its worker
    killed) and stored as timed out; the resumed search evaluates it again on a worker, and nothing
    else. The job that hangs (60 s) is the last of the session to start, and a run before it leaves both
    workers warm (nasearch imported, the table loaded), so the other jobs finish well inside the 20 s
    timeout even on a loaded machine. The timeout counts from submission and a timed-out worker restarts
    cold, so a tight timeout (3 s failed once with two CI runs sharing 2 cores) could cancel a job before it
    started and leave the budget short of the hung job; a job that did time out after starting would be
    retried the same way, which the test allows."""
    warm = tmp_path / "warm"
    warm.mkdir()
    run(_ray_cfg(warm, 0, None, queries=4), tmp_path / "warm_run", progress=False, log=lambda m: None)

    starts, folder = tmp_path / "starts", tmp_path / "run"
    starts.mkdir()
    (report,) = run(_ray_cfg(starts, 6, 20.0), folder, progress=False, log=lambda m: None)
    first = _jobs(folder)
    hung = (starts / "6").read_text()
    assert len(first) == 6 == len(list(starts.iterdir()))  # the budget: the hung job started last
    timed_out = {job for job, e in first.items() if e.get("failure") == "timeout"}
    assert hung in timed_out
    assert report.failures == len(timed_out) and report.failure_kinds == {"timeout": len(timed_out)}
    assert all("cancelled on its Ray worker" in first[job]["error"] for job in timed_out)

    (report,) = run(_ray_cfg(starts, 6, None), folder, progress=False, log=lambda m: None)
    assert report.retried == {"timeout": len(timed_out)} and report.retries_spent == 0
    again = _jobs(folder)
    assert again.keys() == first.keys()
    for job, event in again.items():
        if job in timed_out:  # evaluated again, a new result that counts its two tries
            assert "error" not in event and event["tries"] == 2 and event["value"] is not None
        else:
            assert event == first[job]  # replayed as stored
    # only the timed-out jobs started again on the workers
    restarted = [p.read_text() for p in starts.iterdir() if int(p.name) > 6]
    assert sorted(restarted) == sorted(timed_out)
