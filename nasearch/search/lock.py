"""One run per folder: ``<run dir>/run.lock`` is held (``flock``) for as long as a run uses it.

The file says who holds it (PID, host, start time). A second run on the folder is refused with one
line naming the holder. The kernel drops the lock when its process dies, however it dies
(``kill -9`` included), so a lock left by a dead run is taken over, with a line saying so. Where
the file system cannot lock, a lock naming a PID of this host that no longer runs is stale.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from nasearch.api.errors import RunLockedError, StorageError

LOCK_NAME = "run.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _describe(holder: dict[str, Any]) -> str:
    started = holder.get("started")
    when = f", started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))}" if started else ""
    return f"PID {holder.get('pid', '?')} on host {holder.get('host', '?')}{when}"


class RunLock:
    """``with RunLock(run_dir): ...`` or ``acquire()`` / ``release()``."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None
        #: the previous holder when a stale lock was taken over (for a message)
        self.took_over: dict[str, object] | None = None

    def _read(self, fd: int) -> dict[str, object]:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            raw = os.read(fd, 4096).decode("utf-8", "replace")
            holder = json.loads(raw) if raw.strip() else {}
            return holder if isinstance(holder, dict) else {}
        except (OSError, ValueError):
            return {}

    def acquire(self) -> RunLock:
        """Hold the lock, or raise RunLockedError naming the live holder."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(
                f"cannot create the run lock {str(self.path)!r}: {exc.strerror or exc}"
            ) from None
        try:
            holder = self._read(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._read(fd)
                raise RunLockedError(
                    f"run folder {str(self.path.parent)!r} is in use by another run ({_describe(holder)}); "
                    "wait for it to finish, stop it, or use another --out"
                ) from None
            except OSError as exc:  # a file system without locks: fall back on the PID it names
                if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    raise
                if holder and not self._stale(holder):
                    raise RunLockedError(
                        f"run folder {str(self.path.parent)!r} is in use by another run "
                        f"({_describe(holder)}); this file system cannot lock, so if that run is gone "
                        f"delete {str(self.path)!r}"
                    ) from None
            if holder.get("pid") and holder.get("pid") != os.getpid():
                self.took_over = holder
            me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(me).encode())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    @staticmethod
    def _stale(holder: dict[str, object]) -> bool:
        """A holder is stale when it names this host and a PID that no longer runs."""
        pid = holder.get("pid")
        return holder.get("host") == socket.gethostname() and isinstance(pid, int) and not _pid_alive(pid)

    def release(self) -> None:
        """Empty the file and drop the lock (the file stays: deleting it would race a waiting run)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


__all__ = ["RunLock", "LOCK_NAME"]
