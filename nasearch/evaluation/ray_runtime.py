"""The driver's side of Ray: the local Ray it starts is stopped on every exit path, a lost node
is one line of ours, and Ray's own dumps about it are kept off the terminal.

- ``RayPool.close`` shuts down the Ray it started (normal end, errors, Ctrl-C, SIGTERM: the CLI
  turns SIGTERM into an exception so ``finally`` blocks run).
- A driver killed outright (``kill -9``, the OOM killer) cannot clean up; Ray then leaves its
  dashboard and runtime-env agents running. A small watchdog process (``python -m
  nasearch.evaluation.ray_runtime WATCHDOG DRIVER_PID``, started with the local Ray) notes the
  driver's descendants while it lives and kills those left over once it is gone (Linux).
- ``NodeWatch`` notices a node that stops being alive and says so in one line; Ray's own
  messages about it (the dead raylet's last 20 log lines, "marked dead", "worker died") are
  dropped from the driver's output, as its tasks are retried (``parallel.max_retries``) or end as
  ``lost`` failures the run reports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

#: Ray messages that a lost node or worker produces on the driver; ``NodeWatch`` says it in one line
_NOISE = (
    "Raylet is terminated",
    "has been marked dead",
    "[state-dump]",
    "A worker died or was killed",
    "The raylet exited",
    "raylet fate shares",
)


def quiet_node_loss_messages() -> None:
    """Drop Ray's multi-line reports of a dead raylet or worker from the driver's output (call
    before ``ray.init``; other worker output still reaches the terminal)."""
    try:
        import ray._private.worker as worker_mod
    except ImportError:  # pragma: no cover - Ray's layout changed: keep its messages
        return
    original = getattr(worker_mod, "print_to_stdstream", None)
    if original is None or getattr(original, "_nasearch_filter", False):
        return

    def filtered(data: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        lines = data.get("lines") or []
        if data.get("pid") == "raylet" and any(noise in str(line) for line in lines for noise in _NOISE):
            return None
        return original(data, *args, **kwargs)

    filtered._nasearch_filter = True  # type: ignore[attr-defined]
    worker_mod.print_to_stdstream = filtered


class NodeWatch:
    """Which Ray nodes are alive; ``check`` reports each one lost since the last call, once."""

    def __init__(
        self, ray: ModuleType, log: Callable[[str], None], max_retries: int, every_s: float = 2.0
    ) -> None:
        self._ray = ray
        self._log = log
        self._max_retries = max_retries
        self._every = every_s
        self._last = 0.0
        self._alive = self._nodes()
        self.lost: list[str] = []

    def _nodes(self) -> dict[str, str]:
        try:
            nodes = self._ray.nodes()
            return {n["NodeID"]: str(n.get("NodeManagerAddress", "?")) for n in nodes if n.get("Alive")}
        except Exception:  # noqa: BLE001 - the GCS is unreachable: nothing to compare now
            return {}

    def check(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self._every:
            return
        self._last = now
        alive = self._nodes()
        if not alive:
            return
        for node, address in self._alive.items():
            if node not in alive and node not in self.lost:
                self.lost.append(node)
                self._log(
                    f"nasearch: Ray node {node[:12]} ({address}) was lost; its evaluations are retried on "
                    f"the remaining nodes (parallel.max_retries={self._max_retries}) or recorded as lost"
                )
        self._alive = alive  # nodes that joined since are watched from now on


# --- the watchdog ------------------------------------------------------------------------------------
def start_watchdog() -> subprocess.Popen[bytes] | None:
    """Start the watchdog for this driver (Linux only; None elsewhere or when it cannot start)."""
    if not sys.platform.startswith("linux") or not os.path.isdir("/proc"):
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "nasearch.evaluation.ray_runtime", "watchdog", str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # stderr: the driver's, for its one line
            start_new_session=True,  # not in the driver's process group: a Ctrl-C or kill of it spares this
        )
    except OSError:
        return None


def stop_watchdog(proc: subprocess.Popen[bytes] | None) -> None:
    """The driver ended its Ray itself: the watchdog has nothing left to do."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


def _stat(pid: int) -> tuple[int, int] | None:
    """``(parent pid, start time)`` of a process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        return int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def descendants(root: int) -> dict[int, int]:
    """Every descendant of ``root``: pid -> start time."""
    children: dict[int, list[tuple[int, int]]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None:
                children.setdefault(stat[0], []).append((int(name), stat[1]))
    out: dict[int, int] = {}
    todo = [root]
    while todo:
        for pid, start in children.get(todo.pop(), []):
            if pid not in out:
                out[pid] = start
                todo.append(pid)
    return out


def watchdog(driver: int, every_s: float = 0.5, grace_s: float = 2.0) -> None:
    """Note the driver's descendants while it runs; once it is gone, kill those still running."""
    me = os.getpid()
    known: dict[int, int] = {}
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    while not stop:
        if _stat(driver) is None:
            break
        known.update({pid: start for pid, start in descendants(driver).items() if pid != me})
        time.sleep(every_s)
    if stop:
        return
    time.sleep(grace_s)  # Ray's own fate-sharing goes first
    killed = 0
    for pid, start in known.items():
        stat = _stat(pid)
        if stat is not None and stat[1] == start:  # the same process, not a reused PID
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    try:
        print(
            f"nasearch: the run (PID {driver}) ended abruptly (killed, or its local Ray node died); "
            f"stopped {killed} Ray process(es) it left. Completed evaluations are saved: rerun the same "
            "command to resume",
            file=sys.stderr,
            flush=True,
        )
    except OSError:
        pass


if __name__ == "__main__":  # pragma: no cover - exercised by the kill test in a subprocess
    if len(sys.argv) == 3 and sys.argv[1] == "watchdog":
        watchdog(int(sys.argv[2]))
