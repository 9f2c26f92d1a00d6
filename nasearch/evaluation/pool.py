"""Run evaluations: a serial backend for debugging, and a Ray pool (local with N workers, or a
cluster by ``address``). A task that raises comes back as a failure carrying its error and its
kind (``nasearch.search.failures``: a set-up failure, or the cell's); a task whose worker dies is
retried by Ray (``max_retries``) before it counts as ``lost``; a task past ``timeout_s`` is
cancelled (its worker killed) and comes back as ``timeout``."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Hashable
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np

from nasearch.api import Evaluator, FitsAndPredicts, Result
from nasearch.api.errors import ConfigError, Terminated
from nasearch.api.graph import ArchGraph
from nasearch.api.pool import Fitter, Outcome, WorkerPool
from nasearch.evaluation import ray_runtime
from nasearch.evaluation.isolated import evaluate_in_child
from nasearch.search.dashboard import with_times
from nasearch.search.failures import CRASH, LOST, SETUP, TIMEOUT, classify

if TYPE_CHECKING:
    from ray import ObjectRef


class _EvaluationTimeout(BaseException):
    """Raised in the driver by the serial backend's alarm (not an Exception: evaluators that
    catch Exception cannot swallow it)."""


def _timeout_text(timeout_s: float, where: str) -> str:
    return f"timed out after {timeout_s:g} s (parallel.timeout_s); {where}"


__all__ = ["BACKENDS", "Outcome", "RayPool", "SerialPool", "WorkerPool", "make_pool"]


def _check_result(result: object, evaluator: object) -> Result:
    if not isinstance(result, Result):
        raise TypeError(
            f"{type(evaluator).__name__}.evaluate returned {type(result).__name__}, expected "
            "nasearch.api.Result"
        )
    return result


def _error_text(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


class SerialPool:
    """Evaluates in the calling process, one at a time, when ``wait`` is called (debugging).
    ``timeout_s`` is enforced with an alarm signal in the main thread: it interrupts Python code
    (a hung C call waits for it to return; use the Ray backend to kill such a task).
    ``isolate``: each evaluation runs in a forked child process instead
    (``nasearch.evaluation.isolated``), so an evaluator that exits or crashes fails its cell only.
    ``on_start(arch)``, when set, is called just before an evaluation starts (the runner records
    the cell in flight there, ``nasearch.search.inflight``)."""

    backend = "serial"

    def __init__(self, evaluator: Evaluator, timeout_s: float | None = None, isolate: bool = False) -> None:
        self.evaluator = evaluator
        self.capacity = 1
        self.timeout_s = timeout_s
        self.isolate = isolate
        self.on_start: Callable[[Hashable], None] | None = None
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
        if self.on_start is not None:
            self.on_start(arch)
        if self.isolate:
            return [self._isolated(ticket, arch)]
        start, started_at = time.perf_counter(), time.time()
        kind = None
        alarm = (
            bool(self.timeout_s)
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        )
        previous: signal.Handlers | Callable[[int, FrameType | None], object] | int | None = None
        try:
            if alarm:
                previous = signal.signal(signal.SIGALRM, _raise_timeout)
                signal.setitimer(signal.ITIMER_REAL, float(self.timeout_s))  # type: ignore[arg-type]
            result: Result | None = _check_result(self.evaluator.evaluate(arch), self.evaluator)
            result = with_times(result, started_at, time.time())  # the dashboard's timeline
            error = None
        except _EvaluationTimeout:
            result, error, kind = (
                None,
                _timeout_text(float(self.timeout_s or 0), "the evaluation was interrupted"),
                TIMEOUT,
            )
        except Exception as exc:  # noqa: BLE001 - any evaluator failure becomes a FAIL trial
            result, error, kind = None, _error_text(exc), classify(exc)
        except SystemExit as exc:
            if isinstance(exc, Terminated):
                raise
            result, error, kind = (
                None,
                f"the evaluator raised {_error_text(exc)} (an exit is a crash here)",
                CRASH,
            )
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        wall = time.perf_counter() - start
        self.eval_seconds += wall
        return [Outcome(ticket, arch, result, error, wall, kind)]

    def _isolated(self, ticket: int, arch: Hashable) -> Outcome:
        start, started_at = time.perf_counter(), time.time()
        result, error, kind = evaluate_in_child(
            self.evaluator, arch, self.timeout_s, _check_result, _error_text
        )
        if result is not None:
            result = with_times(result, started_at, time.time())
        wall = time.perf_counter() - start
        self.eval_seconds += wall
        return Outcome(ticket, arch, result, error, wall, kind)

    def fitter(self) -> Fitter | None:
        """Surrogates fit in the driver with the serial backend."""
        return None

    def close(self) -> None:
        self._queue.clear()


#: evaluators already unpickled in this (worker) process, by pool token: a worker loads the
#: benchmark tables or datasets of an evaluator once, not once per task
_WORKER_EVALUATORS: dict[str, Evaluator] = {}


def _raise_timeout(*_: object) -> None:
    raise _EvaluationTimeout()


#: what a Ray evaluation task returns: ``(result, error, kind, seconds, node id)``
_Returned = tuple[Result | None, str | None, str | None, float, str | None]


def _remote_evaluate(token: str, payload: bytes, arch: Hashable) -> _Returned:
    """Body of the Ray task: ``(result, error, kind, seconds, node id)``. Evaluator errors are
    returned, not raised (so Ray does not retry them); an evaluator that cannot be unpickled on
    this worker is a set-up failure."""
    start, started_at = time.perf_counter(), time.time()
    node = None
    try:
        import ray

        node = ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - the node id is a nicety
        pass
    try:
        evaluator = _WORKER_EVALUATORS.get(token)
        if evaluator is None:
            from ray import cloudpickle

            try:
                evaluator = _WORKER_EVALUATORS[token] = cloudpickle.loads(payload)
            except Exception as exc:  # noqa: BLE001 - e.g. the evaluator's module is not importable here
                return (
                    None,
                    f"the evaluator cannot be loaded on this Ray worker: {_error_text(exc)}",
                    SETUP,
                    time.perf_counter() - start,
                    node,
                )
        result = with_times(_check_result(evaluator.evaluate(arch), evaluator), started_at, time.time())
        return result, None, None, time.perf_counter() - start, node
    except Exception as exc:  # noqa: BLE001 - recorded as a FAIL trial with its error
        return None, _error_text(exc), classify(exc), time.perf_counter() - start, node
    except SystemExit as exc:  # the evaluator's exit: its cell's crash, not a dead worker retried in vain
        return (
            None,
            f"the evaluator raised {_error_text(exc)} (an exit is a crash here)",
            CRASH,
            time.perf_counter() - start,
            node,
        )


def _remote_fit(member: FitsAndPredicts, graphs: list[ArchGraph], y: np.ndarray) -> FitsAndPredicts:
    """Ray task: fit one surrogate member on the worker (its GPU when it has one) and return it.
    Torch predictors move their module back to the CPU after fitting, so the driver can unpickle
    the result without a GPU."""
    member.fit(graphs, y)
    return member


class RayPool:
    """Ray tasks, at most ``workers`` in flight; each asks for ``num_cpus``/``num_gpus``.

    Local Ray starts with ``workers * num_cpus`` CPUs unless ``address`` names a running
    cluster ("auto" or "ray://host:10001"). The evaluator is pickled into the object store once;
    each worker process unpickles it on its first task and keeps it (tables load once per
    worker). A worker that dies mid-task (killed, out of memory, its node lost) has its task
    retried up to ``max_retries`` times; after that the evaluation is a ``lost`` failure. A task
    still running ``timeout_s`` after it was submitted is cancelled (Ray kills its worker) and is
    a ``timeout`` failure. ``close`` shuts down the Ray this pool started (see ``ray_runtime``).
    """

    backend = "ray"

    def __init__(
        self,
        evaluator: Evaluator,
        workers: int = 2,
        address: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        max_retries: int = 3,
        surrogate_resources: dict[str, float] | None = None,
        timeout_s: float | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - ray is a dependency
            raise ConfigError(f"parallel.backend 'ray' needs the ray package: {exc}") from None
        self._ray = ray
        self.capacity = int(workers)
        self.timeout_s = timeout_s
        self._log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._started = False
        self._watchdog: subprocess.Popen[bytes] | None = None
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": True,
                "logging_level": "ERROR",
                "configure_logging": True,
            }
            if address:
                kwargs["address"] = address
            else:
                cpus = workers * max(num_cpus, 0.01) + float((surrogate_resources or {}).get("num_cpus", 0))
                kwargs["num_cpus"] = max(1, int(round(cpus + 0.4999)))
            ray_runtime.quiet_node_loss_messages()
            on_term = (
                signal.getsignal(signal.SIGTERM)
                if threading.current_thread() is threading.main_thread()
                else None
            )
            try:
                ray.init(**kwargs)  # local GPUs are detected by Ray itself
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {address!r}" if address else "a local Ray"
                raise ConfigError(
                    f"parallel: cannot start or reach {where}: {str(exc).strip().splitlines()[0]}"
                ) from None
            finally:
                if on_term is not None:  # Ray installs its own SIGTERM handler: the caller's stays in charge
                    signal.signal(signal.SIGTERM, on_term)
            self._started = True
            if not address:  # a local Ray this driver owns: clean it up even if the driver is killed
                self._watchdog = ray_runtime.start_watchdog()
        self._nodes = ray_runtime.NodeWatch(ray, self._log, max_retries)
        self.surrogate_resources = dict(surrogate_resources) if surrogate_resources else None
        self._tasks: dict[ObjectRef[_Returned], tuple[int, Hashable, float]] = {}
        try:
            if self.surrogate_resources:
                self._check_resources(self.surrogate_resources, "parallel.surrogate_resources")
            if num_gpus:
                self._check_resources({"num_gpus": num_gpus}, "parallel.resources")
        except BaseException:  # a refused request: shut down the Ray just started (and its watchdog) cleanly
            self.close()
            raise
        self._remote = ray.remote(_remote_evaluate).options(
            num_cpus=num_cpus, num_gpus=num_gpus, max_retries=max_retries, retry_exceptions=False
        )
        from ray import cloudpickle

        self._token = uuid.uuid4().hex
        self._payload_ref = ray.put(cloudpickle.dumps(evaluator))
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

    def fitter(self) -> Fitter | None:
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

        def fit_on_workers(
            members: list[FitsAndPredicts], graphs: list[ArchGraph], y: np.ndarray
        ) -> list[FitsAndPredicts]:
            graphs_ref, y_ref = ray.put(graphs), ray.put(y)
            fitted: list[FitsAndPredicts] = ray.get([remote.remote(m, graphs_ref, y_ref) for m in members])
            return fitted

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
        """The evaluations that finished (at least one, unless ``timeout`` passes first),
        including those cancelled for running past ``timeout_s``."""
        if not self._tasks:
            return []
        ray = self._ray
        start = time.perf_counter()
        done: list[ObjectRef[_Returned]] = []
        expired: list[ObjectRef[_Returned]] = []
        while not done and not expired:
            now = time.perf_counter()
            step = 2.0  # look at the nodes at least this often
            if self.timeout_s:
                first = min(submitted for _, _, submitted in self._tasks.values())
                step = min(step, max(0.0, first + self.timeout_s - now))
            if timeout is not None:
                step = min(step, max(0.0, start + timeout - now))
            done, _ = ray.wait(list(self._tasks), num_returns=1, timeout=step)
            if done and len(self._tasks) > 1:  # collect everything else that is already finished too
                more, _ = ray.wait(
                    [r for r in self._tasks if r not in done], num_returns=len(self._tasks) - 1, timeout=0
                )
                done = list(done) + list(more)
            self._nodes.check()
            if self.timeout_s:
                now = time.perf_counter()
                expired = [
                    r for r, (_, _, t0) in self._tasks.items() if r not in done and now - t0 >= self.timeout_s
                ]
            if timeout is not None and time.perf_counter() - start >= timeout:
                break
        self.eval_seconds += time.perf_counter() - start
        out = []
        for ref in done:
            ticket, arch, submitted = self._tasks.pop(ref)
            try:
                result, error, kind, wall, node = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - the worker or node was lost, after Ray's retries
                self._nodes.check(force=True)
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                result, error, kind, wall, node = (
                    None,
                    f"{type(exc).__name__}: {text}",
                    LOST,
                    time.perf_counter() - submitted,
                    None,
                )
            out.append(Outcome(ticket, arch, result, error, wall, kind, node))
        for ref in expired:
            ticket, arch, submitted = self._tasks.pop(ref)
            ray.cancel(ref, force=True)  # kills the worker process running it
            error = _timeout_text(float(self.timeout_s or 0), "the task was cancelled on its Ray worker")
            out.append(Outcome(ticket, arch, None, error, time.perf_counter() - submitted, TIMEOUT))
        return out

    def close(self) -> None:
        """Cancel what is in flight; shut down the Ray this pool started (and its watchdog)."""
        try:
            for ref in list(self._tasks):
                self._ray.cancel(ref, force=True)
        except Exception:  # noqa: BLE001 - Ray may already be gone (a lost head node)
            pass
        self._tasks.clear()
        if self._started:
            self._started = False
            try:
                self._ray.shutdown()
            finally:
                ray_runtime.stop_watchdog(self._watchdog)
                self._watchdog = None


#: backend name -> pool class
BACKENDS: dict[str, type[WorkerPool]] = {"serial": SerialPool, "ray": RayPool}


def make_pool(evaluator: Evaluator, backend: str = "ray", **options: Any) -> WorkerPool:
    """The pool for ``backend`` ('ray' or 'serial'), given the ``parallel`` config options."""
    if backend not in BACKENDS:
        raise ConfigError(
            f"parallel.backend: unknown backend {backend!r} (choose from {', '.join(BACKENDS)})"
        )
    if backend == "serial":
        return SerialPool(evaluator, timeout_s=options.get("timeout_s"), isolate=bool(options.get("isolate")))
    return RayPool(evaluator, **options)
