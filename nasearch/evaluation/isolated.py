"""One evaluation in a forked child process (``parallel.isolate`` with the serial backend).

An evaluator that calls ``os._exit``, raises ``SystemExit`` or crashes its process (a segfault in a C
extension) then fails that cell only, as a ``crash`` failure naming the exit code or signal; a
timeout kills the child instead of interrupting Python code. The result comes back over a pipe
from the child this process forked (nothing is read from outside).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Hashable
from multiprocessing.connection import Connection

from nasearch.api import Evaluator, Result
from nasearch.search.failures import CRASH, TIMEOUT, classify

#: checks what ``evaluate`` returned (a TypeError naming the evaluator when it is not a Result)
Check = Callable[[object, Evaluator], Result]


def _child(
    evaluator: Evaluator,
    arch: Hashable,
    conn: Connection,
    check: Check,
    error_text: Callable[[BaseException], str],
) -> None:
    try:
        result = check(evaluator.evaluate(arch), evaluator)
        conn.send(("ok", result, None))
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: reported, not obeyed
        kind = classify(exc) if isinstance(exc, Exception) else CRASH
        conn.send(("error", error_text(exc), kind))
    finally:
        conn.close()


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the process evaluating this cell was killed by {name}"
    return f"the process evaluating this cell exited with code {code} without a result (os._exit?)"


def evaluate_in_child(
    evaluator: Evaluator,
    arch: Hashable,
    timeout_s: float | None,
    check: Check,
    error_text: Callable[[BaseException], str],
) -> tuple[Result | None, str | None, str | None]:
    """``(result, error, kind)`` of ``evaluator.evaluate(arch)`` run in a forked child."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(evaluator, arch, send, check, error_text), daemon=True)
    proc.start()
    send.close()
    try:
        if not receive.poll(timeout_s):
            proc.kill()
            proc.join()
            return (
                None,
                f"timed out after {timeout_s:g} s (parallel.timeout_s); the child process was killed",
                TIMEOUT,
            )
        try:
            status, value, kind = receive.recv()
        except (EOFError, OSError):  # it died without a word
            proc.join()
            return None, _exit_text(proc.exitcode), CRASH
        proc.join()
        if status == "ok":
            return value, None, None
        return None, str(value), kind
    except BaseException:  # Ctrl-C in the driver: the child goes too
        proc.kill()
        proc.join()
        raise
    finally:
        receive.close()


__all__ = ["evaluate_in_child"]
