"""Frozen means frozen: --frozen covers every override, and BENCHMARKS sections come from clean trees."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.freeze import check_frozen, dirty_files, write_freeze
from benchmarks.report import DirtyTree, write_section

ROOT = Path(__file__).resolve().parent.parent


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@example.org")
    _git(tmp_path, "config", "user.name", "t")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "BENCHMARKS.md").write_text("# Benchmarks\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "start")
    return tmp_path


def test_a_section_is_refused_from_a_dirty_tree_and_stamped_from_a_clean_one(repo: Path) -> None:
    bench = repo / "BENCHMARKS.md"
    head = _git(repo, "rev-parse", "HEAD")[:12]
    write_section("a", "## A\n\nfigures", bench, measured=["0123456789ab"])
    text = bench.read_text()
    assert f"_Measured at commit(s) `0123456789ab`; section written at commit `{head}`._" in text
    # BENCHMARKS.md itself is now modified: that does not count as dirty
    write_section("b", "## B", bench)
    assert f"_section written at commit `{head}`._" in bench.read_text()
    with pytest.raises(DirtyTree, match="measured on a dirty tree"):
        write_section("a", "## A", bench, measured=["0123456789ab-dirty"])
    (repo / "code.py").write_text("x = 2\n")
    assert dirty_files(repo, ignore=(bench,)) == ["code.py"]
    with pytest.raises(DirtyTree, match=r"dirty tree \(code.py\)"):
        write_section("a", "## A", bench)
    assert "## A\n\nfigures" in bench.read_text()  # the refused write changed nothing


def test_outside_a_checkout_nothing_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "B.md"
    write_section("a", "## A", path, measured=["x-dirty"])
    assert "written at commit" not in path.read_text() and dirty_files(tmp_path) is None


def test_frozen_refuses_any_change_to_the_committed_invocation(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    frozen = Path("runs/frozen/s.json")
    invocation = {"config": {"seeds": [300, 301], "optimizer": [{"name": "evolution"}]}, "long_queries": 1000}
    digest = write_freeze(frozen, invocation)
    with pytest.raises(SystemExit, match="not committed"):
        check_frozen(frozen, invocation)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "freeze")
    assert check_frozen(frozen, invocation) == digest
    changed = {**invocation, "config": {**invocation["config"], "seeds": [300, 302]}}
    with pytest.raises(SystemExit, match=r"config\.seeds\.1: frozen 301, now 302"):
        check_frozen(frozen, changed)
    (repo / "code.py").write_text("x = 3\n")
    with pytest.raises(SystemExit, match="uncommitted changes in code.py"):
        check_frozen(frozen, invocation)


def test_bench_frozen_covers_set_overrides_and_flags(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug it fixes: the optimizer list came through --set, and --frozen checked only the YAML."""
    from benchmarks import bench_optimizers

    (repo / "runs").mkdir()
    shutil.copy(ROOT / "runs" / "compare_optimizers_nb201.yaml", repo / "runs" / "c.yaml")
    monkeypatch.chdir(repo)
    base = ["bench", "--config", "runs/c.yaml", "--seeds", "2", "--first-seed", "300", "--tag", "t"]

    def main(*extra: str) -> None:
        monkeypatch.setattr(sys, "argv", [*base, *extra])
        bench_optimizers.main()

    main("--set", "optimizer=[{name: evolution}]", "--freeze")
    assert Path("runs/frozen/compare_optimizers_nb201_t.json").exists()
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "freeze")
    with pytest.raises(SystemExit, match=r"optimizer\.0\.name: frozen 'evolution', now 'random'"):
        main("--set", "optimizer=[{name: random}]", "--frozen")
    with pytest.raises(SystemExit, match="long_queries: frozen 1000, now 500"):
        main("--set", "optimizer=[{name: evolution}]", "--long-queries", "500", "--frozen")
    with pytest.raises(SystemExit, match=r"budget\.queries"):
        main("--set", "optimizer=[{name: evolution}]", "--queries", "100", "--frozen")
