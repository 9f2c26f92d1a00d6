"""Where the benchmark tables live, and reading them with errors that name the file and its source.

The data folder comes from an explicit argument (a config's ``data_dir``), else the environment
variable ``NASEARCH_DATA``. Tables are plain CSV/JSON; nothing here unpickles.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nasearch.errors import DataError

ENV_VAR = "NASEARCH_DATA"

HOW_TO_GET = (
    "see the README section 'Benchmark data' for where to get the official files and the "
    "compact tables, then point nasearch at the folder with NASEARCH_DATA=/path/to/data "
    "(or the config key data_dir)"
)


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``explicit`` if given, else ``$NASEARCH_DATA``; it must exist."""
    raw = explicit if explicit is not None else os.environ.get(ENV_VAR)
    if not raw:
        raise DataError(f"no benchmark data folder is set: {HOW_TO_GET}")
    path = Path(raw).expanduser()
    if not path.is_dir():
        source = "data_dir" if explicit is not None else ENV_VAR
        raise DataError(f"benchmark data folder {str(path)!r} (from {source}) does not exist: {HOW_TO_GET}")
    return path


def require_file(root: Path, relative: str, source: str) -> Path:
    """``root / relative``, or a DataError naming the missing file and where it comes from."""
    path = root / relative
    if not path.is_file():
        raise DataError(
            f"missing benchmark table {relative!r} in data folder {str(root)!r}; it comes from "
            f"{source}. {HOW_TO_GET}"
        )
    return path


def read_csv(path: Path, required_columns: list[str], **kwargs: Any) -> Any:
    """Read a CSV with pandas; any parse failure or missing column becomes one DataError."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - pandas raises many types; the user needs one message
        raise DataError(f"cannot read benchmark table {str(path)!r}: {type(exc).__name__}: {exc}") from None
    missing = [c for c in required_columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"benchmark table {str(path)!r} lacks column(s) {', '.join(missing)} "
            f"(has: {', '.join(map(str, frame.columns[:12]))}); is it the right or a corrupted file?"
        )
    return frame


def cache_dir() -> Path:
    """The user's cache folder for derived indexes (``$NASEARCH_CACHE`` or ``~/.cache/nasearch``)."""
    raw = os.environ.get("NASEARCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "nasearch"
    )
    path = Path(raw)
    path.mkdir(parents=True, exist_ok=True)
    return path
