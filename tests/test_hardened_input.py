"""Hostile or broken input gives one line, never a traceback or a runaway: YAML alias bombs,
non-UTF-8 configs, things that are not plug-ins, wrongly typed options, NB101 matrices that are not
0/1, unsafe benchmark files, and storage or folders that cannot be written (read-only, corrupt, full)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasearch.api.errors import ArchError, ConfigError, DataError
from nasearch.cli.main import main
from nasearch.config.loader import load_yaml

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
METRIC = "cifar10-valid/valid_accuracy"
GOOD = f"""\
name: h
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: benchmark, metric: {METRIC}}}
optimizer: {{name: evolution, population_size: 5, sample_size: 2}}
budget: {{queries: 6}}
parallel: {{backend: serial}}
"""


def _cli(args, capsys):
    code = main(["run", *args])
    err = capsys.readouterr().err
    return code, err


def _one_line_error(code, err, *fragments):
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("nasearch run: error: "), err
    for fragment in fragments:
        assert fragment in err, err


# --- YAML -------------------------------------------------------------------------------------------
def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\nname: bomb\n"


def test_an_alias_bomb_is_refused_at_once(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb())  # under 1 KB; 9**9 = 387 million values once expanded
    assert path.stat().st_size < 1024
    start = time.perf_counter()
    code, err = _cli([str(path), "--out", str(tmp_path / "out")], capsys)
    _one_line_error(code, err, "aliases (*name) expand to more than 100,000 values")
    assert time.perf_counter() - start < 5


def test_an_alias_bomb_in_a_set_value_is_refused(tmp_path, capsys):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    bomb = "{" + ", ".join(_bomb().strip().splitlines()) + "}"  # the same document, flow style
    code, err = _cli([str(path), "--out", str(tmp_path / "out"), "--set", f"description={bomb}"], capsys)
    _one_line_error(code, err, "--set", "expand to more than")


def test_a_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "rec.yaml"
    path.write_text("name: r\nloop: &x {again: *x}\n")
    with pytest.raises(ConfigError, match="alias of itself"):
        load_yaml(path)


def test_ordinary_aliases_still_work():
    data, source = load_yaml(REPO / "runs" / "compare_optimizers_nb201.yaml")
    guided = [o for o in data["optimizer"] if "surrogate" in o]
    aliased = [o for o in guided if "pretrain" not in o["surrogate"]]  # predictor_local_search's is its own
    assert len(aliased) >= 2 and all(o["surrogate"] == aliased[0]["surrogate"] for o in aliased)
    assert aliased[0]["surrogate"]["dim"] == 16  # the anchor's mapping, read through the alias


def test_a_config_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.replace("name: h", "name: h\ndescription: caf\xe9").encode("latin-1"))
    code, err = _cli([str(path)], capsys)
    _one_line_error(code, err, "not UTF-8 text (byte 0xe9 on line 2)")


def test_deeply_nested_yaml(tmp_path, capsys):
    path = tmp_path / "deep.yaml"
    path.write_text("name: d\ndescription: " + "[" * 20000 + "]" * 20000 + "\n")
    code, err = _cli([str(path)], capsys)
    assert code == 2 and err.count("\n") == 1


# --- plug-ins and options -------------------------------------------------------------------------------
def test_an_object_that_is_not_a_plugin_is_refused_without_being_used(tmp_path, capsys):
    path = tmp_path / "cdll.yaml"
    path.write_text(GOOD.replace("{name: benchmark, metric: cifar10-valid/valid_accuracy}", '"ctypes:cdll"'))
    code, err = _cli([str(path)], capsys)
    _one_line_error(code, err, "evaluator 'ctypes:cdll'", "does not implement the evaluator contract")


def test_a_plugin_module_that_fails_to_import(tmp_path, capsys, monkeypatch):
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "broken.yaml"
    path.write_text(
        GOOD.replace("{name: benchmark, metric: cifar10-valid/valid_accuracy}", '"broken_plugin:Thing"')
    )
    code, err = _cli([str(path)], capsys)
    _one_line_error(code, err, "importing module 'broken_plugin' failed: RuntimeError: boom at import")


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "population_size: 5",
            'population_size: "thirty"',
            "key 'optimizer.population_size' (line 5): expected an integer, got 'thirty'",
        ),
        (
            "population_size: 5",
            "population_size: 5.5",
            "key 'optimizer.population_size' (line 5): expected an integer, got 5.5",
        ),
        (
            "metric: cifar10-valid/valid_accuracy}",
            "metric: cifar10-valid/valid_accuracy, extra_metrics: 3}",
            "key 'evaluator.extra_metrics' (line 4): expected a list, got 3",
        ),
    ],
)
def test_option_types_are_checked_from_the_constructor(tmp_path, capsys, old, new, message):
    path = tmp_path / "typed.yaml"
    path.write_text(GOOD.replace(old, new))
    code, err = _cli([str(path)], capsys)
    _one_line_error(code, err, message)


def test_surrogate_option_types_are_checked(tmp_path, capsys):
    path = tmp_path / "sur.yaml"
    path.write_text(
        GOOD.replace(
            "{name: evolution, population_size: 5, sample_size: 2}",
            "{name: predictor_evolution, surrogate: {name: nnformer, dim: sixteen}}",
        )
    )
    code, err = _cli([str(path)], capsys)
    _one_line_error(code, err, "predictor 'nnformer' option 'dim': expected an integer, got 'sixteen'")


@pytest.mark.parametrize("entry", [0.9, "1", 2, None])
def test_nb101_matrix_entries_must_be_0_or_1(entry):
    from nasearch.search_spaces.nasbench101.spec import make_cell

    matrix = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "output"]
    assert make_cell(matrix, ops).n_vertices == 3
    matrix[0][1] = entry
    with pytest.raises(ArchError, match=f"must be 0 or 1, got {entry!r}"):
        make_cell(matrix, ops)


# --- the official NB201 file ------------------------------------------------------------------------------
def test_the_official_file_is_loaded_weights_only_explicitly(tmp_path, monkeypatch):
    import torch

    from nasearch.search_spaces.nasbench201 import official

    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    torch.save({"meta_archs": [], "arch2infos": {}, "evaluated_indexes": []}, path)
    seen = {}
    real = torch.load

    def spy(f, map_location=None, weights_only=None, **kwargs):
        seen["weights_only"] = weights_only
        return real(f, map_location=map_location, weights_only=weights_only, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    official.OfficialNasBench201Benchmark(path)
    assert seen.get("weights_only") is True


def test_an_official_file_with_code_in_it_is_refused(tmp_path):
    import torch

    from nasearch.search_spaces.nasbench201.official import OfficialNasBench201Benchmark

    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    torch.save({"meta_archs": [], "arch2infos": {}, "evaluated_indexes": [], "payload": _Payload()}, path)
    with pytest.raises(DataError, match="weights-only"):
        OfficialNasBench201Benchmark(path)


class _Payload:
    """An arbitrary object: a weights-only load refuses to build it."""

    def __reduce__(self):
        return (print, ("this would have run",))


def test_a_torch_without_weights_only_loading_is_refused(tmp_path, monkeypatch):
    import torch

    from nasearch.search_spaces.nasbench201.official import load_weights_only

    def old_load(f, map_location=None):  # the signature of a torch before weights_only existed
        raise AssertionError("must not be called")

    monkeypatch.setattr(torch, "load", old_load)
    with pytest.raises(DataError, match="needs a torch that can load weights-only"):
        load_weights_only(tmp_path / "x.pth")


# --- storage and folders ---------------------------------------------------------------------------------
def test_a_corrupt_study_db(tmp_path, capsys):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    out = tmp_path / "out"
    out.mkdir()
    (out / "study.db").write_bytes(b"this is not a database, it was overwritten" * 100)
    code, err = _cli([str(path), "--out", str(out)], capsys)
    _one_line_error(code, err, "cannot be opened", "file is not a database")
    assert "exceeding max length" not in err


def test_a_read_only_database(tmp_path, capsys):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    ro = f"sqlite:///file:{out / 'study.db'}?mode=ro&uri=true"
    code, err = _cli(
        [
            str(path),
            "--out",
            str(out),
            "--no-progress",
            "--set",
            f"storage={ro}",
            "--set",
            "budget.queries=8",
        ],
        capsys,
    )
    _one_line_error(code, err, "attempt to write a readonly database")
    assert "exceeding max length" not in err


def test_a_run_folder_that_cannot_be_made(tmp_path, capsys):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    (tmp_path / "afile").write_text("")
    code, err = _cli([str(path), "--out", str(tmp_path / "afile" / "out")], capsys)
    _one_line_error(code, err, "cannot create run folder", "Not a directory")


def _can_mount() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True
    )
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(
    not _can_mount(), reason="needs root and mount namespaces (unshare -m), as CI has"
)


def _in_tmpfs(tmp_path, script: str, size: str = "2m") -> subprocess.CompletedProcess[str]:
    """Run ``script`` (sh) in a private mount namespace with a ``size`` tmpfs on ``$MNT``."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cfg = tmp_path / "good.yaml"
    cfg.write_text(GOOD)
    env = {
        **os.environ,
        "MNT": str(mnt),
        "CFG": str(cfg),
        "PY": sys.executable,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size={size} tmpfs $MNT && {script}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@needs_mount
def test_a_read_only_folder(tmp_path):
    done = _in_tmpfs(
        tmp_path,
        "$PY -m nasearch run $CFG --out $MNT/out --no-progress >/dev/null && "
        "mount -o remount,ro $MNT && "
        "$PY -m nasearch run $CFG --out $MNT/out --no-progress --set budget.queries=8",
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Read-only file system" in done.stderr, done.stderr


@needs_mount
def test_a_full_disk(tmp_path):
    done = _in_tmpfs(
        tmp_path,
        "$PY -m nasearch run $CFG --out $MNT/out --no-progress --set optimizer=random "
        "--set budget.queries=5000",
        size="600k",
    )
    assert done.returncode == 2, done.stderr[-3000:]
    err = done.stderr
    assert err.count("\n") == 1 and ("database or disk is full" in err or "No space left on device" in err), (
        err
    )
    assert "exceeding max length" not in err


@needs_mount
def test_a_full_disk_while_writing_the_png(tmp_path):
    """The PNG is rendered in memory and written whole: a full disk is one line naming the file,
    never a traceback from the PNG encoder nor a truncated PNG (issue #27)."""
    done = _in_tmpfs(
        tmp_path,
        "$PY -m nasearch run $CFG --out $MNT/out --no-progress >/dev/null && rm $MNT/out/search_curves.png && "
        "(dd if=/dev/zero of=$MNT/fill bs=4k 2>/dev/null; true) && truncate -s -44k $MNT/fill && "
        "$PY -m nasearch plot $MNT/out; echo rc=$? >&2; ls -a $MNT/out >&2",
    )
    err = done.stderr.splitlines()
    assert "rc=2" in err, done.stderr[-3000:]
    errors = [line for line in err if line.startswith("nasearch plot: error")]
    assert len(errors) == 1 and "search_curves.png" in errors[0] and "No space left on device" in errors[0], (
        err
    )
    assert "search_curves.png" not in err and ".search_curves.png.tmp" not in err  # nothing half-written
    assert "Traceback (most recent call last):" not in done.stderr


# --- issue #27: every message one line with its real cause ----------------------------------------------
def test_a_duplicate_yaml_key_is_refused_naming_it(tmp_path, capsys):
    path = tmp_path / "dup.yaml"
    path.write_text(GOOD + "budget: {queries: 600}\n")  # a second budget: YAML would silently keep it
    code, err = _cli([str(path), "--out", str(tmp_path / "out"), "--no-progress"], capsys)
    _one_line_error(code, err, "line 8: key 'budget' is given twice in one mapping (first on line 6)")
    nested = tmp_path / "nested.yaml"
    nested.write_text(GOOD.replace("{queries: 6}", "{queries: 6, queries: 9}"))
    code, err = _cli([str(nested), "--out", str(tmp_path / "out"), "--no-progress"], capsys)
    _one_line_error(code, err, "key 'queries' is given twice")
    assert not (tmp_path / "out").exists()


def test_a_deeply_nested_nb101_spec_is_one_line(capsys):
    deep = '{"matrix": ' + "[" * 1000 + "]" * 1000 + ', "ops": []}'
    assert main(["query", "nasbench101", deep]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nested too deeply" in err and "RecursionError" not in err, err


def test_an_nb201_error_does_not_echo_a_megabyte(capsys):
    assert main(["query", "nasbench201", "|" + "x" * 1_000_000 + "|"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 500 and "(1,000,004 characters)" in err, err[:600]


def test_stored_error_text_has_no_colour_codes(tmp_path, nb201_space):
    from nasearch.search.tracking import StudyTracker, storage_url

    tracker = StudyTracker(storage_url(None, tmp_path), "c/seed-0", [(METRIC, True)], space=nb201_space)
    arch = nb201_space.sample(__import__("numpy").random.default_rng(0))
    tracker.record(arch, None, "\x1b[31mRuntimeError: boom\x1b[0m\nsecond line")
    assert tracker.records()[0].error == "RuntimeError: boom second line"


def test_a_gpu_request_on_a_cpu_machine_is_one_line_and_ray_stops_cleanly(tmp_path):
    """The refused resource request shuts down the Ray it started: no "ended abruptly ... rerun to
    resume" from the watchdog after the config error."""
    path = tmp_path / "gpu.yaml"
    path.write_text(
        GOOD.replace(
            "parallel: {backend: serial}", "parallel: {backend: ray, workers: 1, resources: {num_gpus: 1}}"
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "nasearch", "run", str(path), "--out", str(tmp_path / "out"), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "parallel.resources.num_gpus asks for 1 GPU(s)" in lines[0], done.stderr[
        -3000:
    ]
