"""Run evaluations: a serial backend for debugging, and a Ray pool (local with N workers, or a
cluster by ``address``). A task that raises comes back as a failure carrying its error; a task
whose worker dies is retried by Ray (``max_retries``) before it counts as failed."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from nasearch.dashboard import with_times
from nasearch.errors import ConfigError
from nasearch.evaluation.base import Result


@dataclass
class Outcome:
    """One finished evaluation: the result, or the error text when it failed."""

    ticket: int
    arch: Hashable
    result: Result | None
    error: str | None
    wall_seconds: float


def _check_result(result: Any, evaluator: Any) -> Result:
    if not isinstance(result, Result):
        raise TypeError(
            f"{type(evaluator).__name__}.evaluate returned {type(result).__name__}, expected "
            "nasearch.evaluation.base.Result"
        )
    return result


def _error_text(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


class SerialPool:
    """Evaluates in the calling process, one at a time, when ``wait`` is called (debugging)."""

    backend = "serial"

    def __init__(self, evaluator: Any, workers: int = 1) -> None:
        self.evaluator = evaluator
        self.capacity = 1
        self._queue: list[tuple[int, Hashable]] = []
        self._next = 0
        self.eval_seconds = 0.0

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def submit(self, arch: Hashable) -> int:
        ticket = self._next
        self._next += 1
        self._queue.append((ticket, arch))
        return ticket

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        if not self._queue:
            return []
        ticket, arch = self._queue.pop(0)
        start, started_at = time.perf_counter(), time.time()
        try:
            result: Result | None = _check_result(self.evaluator.evaluate(arch), self.evaluator)
            result = with_times(result, started_at, time.time())  # the dashboard's timeline
            error = None
        except Exception as exc:  # noqa: BLE001 - any evaluator failure becomes a FAIL trial
            result, error = None, _error_text(exc)
        wall = time.perf_counter() - start
        self.eval_seconds += wall
        return [Outcome(ticket, arch, result, error, wall)]

    def fitter(self) -> None:
        """Surrogates fit in the driver with the serial backend."""
        return None

    def close(self) -> None:
        self._queue.clear()


#: evaluators already unpickled in this (worker) process, by pool token: a worker loads the
#: benchmark tables or datasets of an evaluator once, not once per task
_WORKER_EVALUATORS: dict[str, Any] = {}


def _remote_evaluate(token: str, payload: bytes, arch: Hashable) -> tuple[Result | None, str | None, float]:
    """Body of the Ray task: evaluator errors are returned, not raised (so they are not retried)."""
    start, started_at = time.perf_counter(), time.time()
    evaluator = _WORKER_EVALUATORS.get(token)
    if evaluator is None:
        from ray import cloudpickle

        evaluator = _WORKER_EVALUATORS[token] = cloudpickle.loads(payload)
    try:
        result = with_times(_check_result(evaluator.evaluate(arch), evaluator), started_at, time.time())
        return result, None, time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - recorded as a FAIL trial with its error
        return None, _error_text(exc), time.perf_counter() - start


def _remote_fit(member: Any, graphs: list[Any], y: Any) -> Any:
    """Ray task: fit one surrogate member on the worker (its GPU when it has one) and return it.
    Torch predictors move their module back to the CPU after fitting, so the driver can unpickle
    the result without a GPU."""
    member.fit(graphs, y)
    return member


class RayPool:
    """Ray tasks, at most ``workers`` in flight; each asks for ``num_cpus``/``num_gpus``.

    Local Ray starts with ``workers * num_cpus`` CPUs unless ``address`` names a running
    cluster ("auto" or "ray://host:10001"). The evaluator is pickled into the object store once;
    each worker process unpickles it on its first task and keeps it (tables load once per worker). A worker that dies mid-task (killed, out of memory) has its
    task retried up to ``max_retries`` times; after that the evaluation is a failure.
    """

    backend = "ray"

    def __init__(
        self,
        evaluator: Any,
        workers: int = 2,
        address: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        max_retries: int = 3,
        surrogate_resources: dict[str, float] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - ray is a dependency
            raise ConfigError(f"parallel.backend 'ray' needs the ray package: {exc}") from None
        self._ray = ray
        self.capacity = int(workers)
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True,
                                      "logging_level": "ERROR", "configure_logging": True}
            if address:
                kwargs["address"] = address
            else:
                cpus = workers * max(num_cpus, 0.01) + float((surrogate_resources or {}).get("num_cpus", 0))
                kwargs["num_cpus"] = max(1, int(round(cpus + 0.4999)))
            ray.init(**kwargs)  # local GPUs are detected by Ray itself
        self.surrogate_resources = dict(surrogate_resources) if surrogate_resources else None
        if self.surrogate_resources:
            self._check_resources(self.surrogate_resources, "parallel.surrogate_resources")
        if num_gpus:
            self._check_resources({"num_gpus": num_gpus}, "parallel.resources")
        self._remote = ray.remote(_remote_evaluate).options(
            num_cpus=num_cpus, num_gpus=num_gpus, max_retries=max_retries, retry_exceptions=False
        )
        import uuid

        from ray import cloudpickle

        self._token = uuid.uuid4().hex
        self._payload_ref = ray.put(cloudpickle.dumps(evaluator))
        self._tasks: dict[Any, tuple[int, Hashable, float]] = {}
        self._next = 0
        self.eval_seconds = 0.0

    def _check_resources(self, wanted: dict[str, float], key: str) -> None:
        """Refuse a request the cluster can never grant (Ray would wait for it forever)."""
        have = self._ray.cluster_resources()
        for name, ray_name in (("num_gpus", "GPU"), ("num_cpus", "CPU")):
            need = float(wanted.get(name, 0) or 0)
            if need > float(have.get(ray_name, 0)):
                raise ConfigError(
                    f"{key}.{name} asks for {need:g} {ray_name}(s) per task but the Ray cluster has "
                    f"{float(have.get(ray_name, 0)):g}; lower it or start Ray where {ray_name}s are"
                )

    def fitter(self) -> Any:
        """A surrogate fitter that trains every member as a Ray task with ``surrogate_resources``
        (members of an ensemble in parallel), or None when none were configured."""
        if not self.surrogate_resources:
            return None
        ray = self._ray
        remote = ray.remote(_remote_fit).options(
            num_cpus=float(self.surrogate_resources.get("num_cpus", 1.0)),
            num_gpus=float(self.surrogate_resources.get("num_gpus", 0.0)),
            max_retries=1,
        )

        def fit_on_workers(members: list[Any], graphs: list[Any], y: Any) -> list[Any]:
            graphs_ref, y_ref = ray.put(graphs), ray.put(y)
            return ray.get([remote.remote(m, graphs_ref, y_ref) for m in members])

        return fit_on_workers

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def submit(self, arch: Hashable) -> int:
        ticket = self._next
        self._next += 1
        ref = self._remote.remote(self._token, self._payload_ref, arch)
        self._tasks[ref] = (ticket, arch, time.perf_counter())
        return ticket

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        if not self._tasks:
            return []
        ray = self._ray
        start = time.perf_counter()
        done, _ = ray.wait(list(self._tasks), num_returns=1, timeout=timeout)
        if done:  # collect everything else that is already finished too
            more, _ = ray.wait([r for r in self._tasks if r not in done], num_returns=len(self._tasks) - 1,
                               timeout=0) if len(self._tasks) > 1 else ([], [])
            done = list(done) + list(more)
        self.eval_seconds += time.perf_counter() - start
        out = []
        for ref in done:
            ticket, arch, submitted = self._tasks.pop(ref)
            try:
                result, error, wall = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - worker lost after retries, or unpicklable
                result, error, wall = None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", \
                    time.perf_counter() - submitted
            out.append(Outcome(ticket, arch, result, error, wall))
        return out

    def close(self) -> None:
        for ref in list(self._tasks):
            self._ray.cancel(ref, force=True)
        self._tasks.clear()


#: backend name -> pool class
BACKENDS: dict[str, Callable[..., Any]] = {"serial": SerialPool, "ray": RayPool}


def make_pool(evaluator: Any, backend: str = "ray", **options: Any) -> Any:
    """The pool for ``backend`` ('ray' or 'serial'), given the ``parallel`` config options."""
    if backend not in BACKENDS:
        raise ConfigError(f"parallel.backend: unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    if backend == "serial":
        return SerialPool(evaluator)
    return RayPool(evaluator, **options)
