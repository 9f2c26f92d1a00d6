"""Download an official benchmark file into a data folder: resumable, verified, renamed only when whole.

The bytes go to ``<target>.part``; a rerun resumes it with an HTTP Range request. Only a file
whose size and checksum match is renamed to its final name, so a data folder never holds a
half-written official file. Errors are one line naming the URL.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from nasearch.api.errors import DataError
from nasearch.data.manifest import sha256_of

CHUNK = 1 << 20


@dataclass(frozen=True)
class OfficialFile:
    """A large official benchmark file a data folder may hold (never embedded, never in git)."""

    name: str  # what ``nasearch data fetch NAME`` takes
    path: str  # where it goes under the data folder
    source: str
    license: str
    url: str | None = None  # None: no direct download; ``how`` says where to get it
    sha256: str | None = None  # the publisher's checksum, when published
    md5_suffix: str | None = None  # NB201 names its files after the tail of their MD5
    how: str = ""

    def check(self, path: Path) -> str | None:
        """None when ``path`` matches the published checksum, else what differs."""
        if self.sha256 is not None:
            actual = sha256_of(path)
            return (
                None if actual == self.sha256 else f"sha256 {actual} differs from the published {self.sha256}"
            )
        if self.md5_suffix is not None:
            digest = hashlib.md5(usedforsecurity=False)
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(CHUNK), b""):
                    digest.update(block)
            actual = digest.hexdigest()
            return (
                None
                if actual.endswith(self.md5_suffix)
                else f"md5 {actual} does not end in {self.md5_suffix}"
            )
        return None


def fetch(
    file: OfficialFile, folder: Path, url: str | None = None, progress: bool = True, timeout: float = 60.0
) -> Path:
    """Download ``file`` into ``folder`` (resuming a partial download) and return its final path."""
    url = url or file.url
    if url is None:
        raise DataError(f"{file.name} has no direct download: {file.how}")
    target = folder / file.path
    if target.is_file():
        problem = file.check(target)
        if problem is None:
            return target
        raise DataError(f"{str(target)!r} is already there but {problem}; delete it and fetch again")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    _download(url, part, offset, progress, timeout)
    problem = file.check(part)
    if problem is not None:
        part.unlink()
        raise DataError(f"download of {url} is corrupt ({problem}); removed it, fetch again")
    os.replace(part, target)
    return target


def _download(url: str, part: Path, offset: int, progress: bool, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - the URL is the user's or ours
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the partial file is already whole
            return
        raise DataError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"cannot download {url}: {reason} (offline?)") from None
    with response:
        if offset and response.status != 206:  # the server ignored the Range: start over
            offset = 0
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length is not None else None
        written = offset
        bar = _progress_bar(part.name, expected, offset, progress)
        try:
            with open(part, "ab" if offset else "wb") as out:
                while True:
                    try:
                        block = response.read(CHUNK)
                    except (OSError, ValueError, http.client.HTTPException) as exc:
                        raise DataError(
                            f"download of {url} broke off at {written} bytes ({exc}); run the same command to resume"
                        ) from None
                    if not block:
                        break
                    out.write(block)
                    written += len(block)
                    bar.update(len(block))
        except OSError as exc:
            raise DataError(f"cannot write {str(part)!r}: {exc}") from None
        finally:
            bar.close()
    if expected is not None and written < expected:
        raise DataError(
            f"download of {url} was cut short at {written} of {expected} bytes; run the same command to resume"
        )


def _progress_bar(name: str, total: int | None, initial: int, enabled: bool):  # type: ignore[no-untyped-def]
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, desc=name, disable=not enabled)
