"""Where a ``"module:Class"`` path in a config is imported from: the config file's folder and the
working directory, as a user who writes ``name: "myspace:MySpace"`` beside their YAML expects
(the ``nasearch`` console script, unlike ``python -m``, puts neither on ``sys.path``)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

_config_folders: list[Path] = []


def add_config_folder(config_path: str | Path) -> None:
    """Remember the folder of a config file that was read, for its ``module:Class`` paths."""
    folder = Path(config_path).resolve().parent
    if folder not in _config_folders:
        _config_folders.append(folder)


def search_folders() -> list[Path]:
    """The folders tried after ``sys.path``: each config file's folder, then the working directory."""
    out = list(_config_folders)
    cwd = Path.cwd().resolve()
    if cwd not in out:
        out.append(cwd)
    return out


def _add_to_path(folder: Path) -> None:
    """Put ``folder`` on ``sys.path`` and on ``PYTHONPATH`` (local Ray workers inherit the
    environment, so they can unpickle the plug-in's classes too)."""
    text = str(folder)
    if text not in sys.path:
        sys.path.append(text)
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if text not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([*parts, text])


def import_module(name: str) -> ModuleType:
    """``importlib.import_module(name)``; when its top-level package is not on ``sys.path``, retry
    with each of :func:`search_folders` that holds it added to the path."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        top = name.split(".")[0]
        if exc.name != top:
            raise  # the module exists but one of its own imports is missing
        for folder in search_folders():
            if (folder / f"{top}.py").is_file() or (folder / top / "__init__.py").is_file():
                _add_to_path(folder)
                importlib.invalidate_caches()
                module = importlib.import_module(name)
                _pickle_by_value(module)
                return module
        tried = ", ".join(str(f) for f in search_folders())
        raise ModuleNotFoundError(
            f"No module named {top!r} on sys.path, nor in the config's folder or the working "
            f"directory ({tried})",
            name=top,
        ) from None


def _pickle_by_value(module: ModuleType) -> None:
    """Ship a plug-in found this way to Ray workers by value: a worker on another machine (or
    started before the path was added) could not import it by name."""
    try:
        from ray import cloudpickle
    except ImportError:  # pragma: no cover - ray is a dependency
        return
    cloudpickle.register_pickle_by_value(module)
