"""Cache entries carry a content check: a damaged decompressed table or NB101 index is rebuilt with
one log line, never used, and ``nasearch data --verify`` checks the cache too (issue #27)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from nasearch.cli.main import main
from nasearch.data import cache_check
from nasearch.data.manifest import load_manifest
from nasearch.data.sources import DataSources
from nasearch.search_spaces.nasbench101 import index as index_module

C10 = "nasbench201/nas-landscapes/cifar10_avg.csv"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of this test's own, and a process that has checked nothing yet."""
    root = tmp_path / "cache"
    monkeypatch.setenv("NASEARCH_CACHE", str(root))
    monkeypatch.setattr(cache_check, "_checked", set())
    return root


def _same_size_edit(path: Path) -> None:
    """The probe: one digit of a value changed (91.6067 -> 99.6067 in the probe), size and mtime kept."""
    data = path.read_bytes()
    st = path.stat()
    i = data.index(b".", len(data) // 2) - 1  # a digit just before a decimal point
    digit = data[i : i + 1]
    assert digit.isdigit()
    path.write_bytes(data[:i] + (b"9" if digit != b"9" else b"8") + data[i + 1 :])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size


def test_a_same_size_edit_of_a_cached_table_is_rebuilt_not_used(cache: Path, capsys) -> None:
    entry = load_manifest()[C10]
    path = DataSources().require(C10, "x").path
    assert path.is_relative_to(cache) and cache_check.sidecar(path).is_file()
    _same_size_edit(path)
    cache_check._checked.clear()  # a later process
    capsys.readouterr()
    again = DataSources().require(C10, "x").path
    assert hashlib.sha256(again.read_bytes()).hexdigest() == entry.content_sha256
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cached table" in err[0] and "damaged" in err[0] and "content differs" in err[0]


def test_a_cached_table_written_without_a_check_is_rebuilt(cache: Path, capsys) -> None:
    path = DataSources().require(C10, "x").path
    cache_check.sidecar(path).unlink()
    cache_check._checked.clear()
    capsys.readouterr()
    assert DataSources().require(C10, "x").path == path
    assert "no content check recorded" in capsys.readouterr().err
    assert cache_check.problem(path) is None


def test_data_verify_checks_the_cached_tables(cache: Path, capsys) -> None:
    path = DataSources().require(C10, "x").path
    assert main(["data", "--verify"]) == 0
    assert "all checksums match" in capsys.readouterr().out
    _same_size_edit(path)
    assert main(["data", "--verify"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "FAILED" in line)
    assert "cifar10_avg.csv" in line and "content differs" in line
    assert "1 file(s) failed their checksum" in out
    assert not path.exists()  # removed: rebuilt on next use
    assert main(["data", "--verify"]) == 0


# --- the NB101 index cache, on a tiny stand-in index (the real one takes 100 s to build) -----------
@pytest.fixture
def tiny_index(monkeypatch: pytest.MonkeyPatch) -> index_module.CellIndex:
    """A 3-cell index that passes the index's own validation (its sizes patched to match)."""
    monkeypatch.setattr(index_module, "NUM_CELLS", 3)
    monkeypatch.setattr(index_module, "NUM_LABELLED", 1)
    arrays = (
        np.array([b"a" * 32, b"b" * 32, b"c" * 32], dtype="S32"),
        np.array([2, 2, 2]),
        np.array([1, 1, 1]),
        np.array([0, 0, 0]),
        np.array([2]),
        np.array([1]),
        np.array([0]),
    )
    built = index_module.CellIndex(*arrays)
    monkeypatch.setattr(index_module, "build_index", lambda progress=False: built)
    monkeypatch.setattr(index_module, "_loaded", {})
    return built


def test_a_corrupted_nb101_index_cache_is_rebuilt_with_one_line(cache: Path, tiny_index, capsys) -> None:
    path = cache / index_module.CACHE_NAME
    cache.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 this is not a whole zip file")  # the probe: a BadZipFile before
    capsys.readouterr()
    index = index_module.load_index(path)
    assert index is tiny_index
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NB101 index cache" in err[0] and "rebuilding it" in err[0]
    assert cache_check.problem(path) is None  # rewritten whole, with its check
    assert len(index_module.read_index(path)) == 3


def test_a_same_size_edit_of_the_nb101_index_is_caught(cache: Path, tiny_index, capsys) -> None:
    path = cache / index_module.CACHE_NAME
    index_module.save_index(tiny_index, path)
    cache_check._checked.clear()
    data = bytearray(path.read_bytes())
    data[data.index(b"bbbb")] = ord("d")  # a hash changed in place: still a valid npz
    path.write_bytes(bytes(data))
    assert main(["data", "--verify"]) == 1
    out = capsys.readouterr().out
    assert index_module.CACHE_NAME in next(line for line in out.splitlines() if "FAILED" in line)
    # and a reader never uses it: it is rebuilt
    path.write_bytes(bytes(data))
    index_module.cached_index(path)  # build=False: None, the damaged file removed
    assert not path.exists()
    assert "NB101 index cache" in capsys.readouterr().err
