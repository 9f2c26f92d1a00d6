"""A real Ray cluster on this machine: a head and a second node started with ``ray start`` (one
CPU each, told apart by a custom resource). A search pointed at it by ``parallel.address`` has
cells evaluated on both nodes (the node is recorded per trial); killing the second node's raylet
mid-run costs nothing: the run finishes with every cell evaluated once, and says so in one line.
A driver killed outright leaves no Ray process behind. The cluster is always stopped."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nasearch.evaluation.ray_runtime import _stat, descendants
from nasearch.search.tracking import COMPLETE, StudyTracker, storage_url

pytestmark = pytest.mark.ray

TESTS = Path(__file__).resolve().parent
METRIC = "cifar10-valid/valid_accuracy"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "RAY_USAGE_STATS_ENABLED": "0",
        # Ray >= 2.5x starts a head with token authentication: give every process of this cluster
        # (nodes and driver) the same throw-away token
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
        # notice a dead node within a few seconds instead of Ray's default half minute
        "RAY_health_check_period_ms": "1000",
        "RAY_health_check_timeout_ms": "1000",
        "RAY_health_check_failure_threshold": "3",
    }


def _group(pgid: int) -> list[int]:
    """PIDs in process group ``pgid``."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) == pgid:
                    out.append(int(name))
            except OSError:
                pass
    return out


class Cluster:
    def __init__(self, env: dict[str, str], temp_dir: str) -> None:
        self.env = env
        self.temp_dir = temp_dir
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.known: dict[int, int] = {}  # every process of the cluster seen: pid -> start time

    def start(self, name: str, *args: str) -> None:
        ports = [
            f"--dashboard-agent-listen-port={_free_port()}",
            f"--metrics-export-port={_free_port()}",
            f"--runtime-env-agent-port={_free_port()}",
        ]
        log = open(Path(self.temp_dir) / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(
            [
                _ray_command(),
                "start",
                "--block",
                "--num-cpus=1",
                "--node-ip-address=127.0.0.1",
                "--disable-usage-stats",
                f'--resources={{"{name}": 1}}',
                *ports,
                *args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def note(self) -> None:
        for proc in self.procs.values():
            self.known.update(descendants(proc.pid))
            self.known[proc.pid] = _stat(proc.pid)[1] if _stat(proc.pid) else 0

    def raylet(self, name: str) -> int:
        for pid in _group(self.procs[name].pid):
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/exe").resolve().name == "raylet":
                    return pid
        raise AssertionError(f"no raylet in {name}'s process group")

    def stop(self) -> list[int]:
        """Stop every process this cluster started; the PIDs still running afterwards."""
        self.note()
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 3
        while time.time() < deadline and any(_group(p.pid) for p in self.procs.values()):
            time.sleep(0.2)
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for pid, start in self.known.items():  # anything that left the groups (agents, workers)
            stat = _stat(pid)
            if stat is not None and stat[1] == start:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        time.sleep(0.5)
        return [pid for pid, start in self.known.items() if _running(pid, start)]


def _running(pid: int, start: int) -> bool:
    """The process ``pid`` that started at ``start`` still runs (not a zombie, not a reused PID)."""
    stat = _stat(pid)
    if stat is None or stat[1] != start:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _ray_command() -> str:
    beside = Path(sys.executable).parent / "ray"  # the venv's, whatever PATH says
    found = str(beside) if beside.is_file() else shutil.which("ray")
    if not found:
        pytest.fail("the ray command line (from the ray package) is needed")
    return found


def _nodes(cluster: Cluster) -> dict[str, str]:
    """resource name -> node id, asked of the cluster by a short-lived driver."""
    code = (
        f"import json, ray; ray.init(address={cluster.address!r}, logging_level='ERROR'); "
        "print(json.dumps({r: n['NodeID'] for n in ray.nodes() if n['Alive'] for r in n['Resources'] "
        "if r.startswith('nasearch_')})); ray.shutdown()"
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        done = subprocess.run(
            [sys.executable, "-c", code], env=cluster.env, capture_output=True, text=True, timeout=60
        )
        if done.returncode == 0:
            found = json.loads(done.stdout.strip().splitlines()[-1])
            if {"nasearch_head", "nasearch_node2"} <= set(found):
                return found
        time.sleep(1)
    raise AssertionError(f"the two-node cluster did not come up: {done.stderr[-2000:]}")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    temp_dir = tempfile.mkdtemp(prefix="nsray", dir="/tmp")  # short: Ray's socket paths must stay < 108 bytes
    c = Cluster(_env(), temp_dir)
    try:
        c.start(
            "nasearch_head",
            "--head",
            f"--port={c.port}",
            "--include-dashboard=false",
            f"--temp-dir={temp_dir}",
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            assert c.procs["nasearch_head"].poll() is None, (
                Path(temp_dir) / "nasearch_head.log"
            ).read_text()[-3000:]
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", c.port), timeout=1):
                break
            time.sleep(0.3)
        c.start("nasearch_node2", f"--address={c.address}")
        yield c
    finally:
        left = c.stop()
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, f"cluster processes still running after stop: {left}"


def _count(db: Path) -> list[tuple[str, str]]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            rows = con.execute(
                "select t.number, a.value_json from trials t join trial_user_attributes a "
                "on a.trial_id = t.trial_id where a.key = 'node' and t.state = 'COMPLETE'"
            ).fetchall()
        return [json.loads(v) for _, v in rows]
    except sqlite3.OperationalError:
        return []


@pytest.mark.slow  # two Ray nodes and a 30-cell search: not in the fast `-m "ray and not slow"` subset
def test_search_on_a_two_node_cluster_survives_losing_a_node(cluster, tmp_path):
    nodes = _nodes(cluster)
    head, node2 = nodes["nasearch_head"], nodes["nasearch_node2"]
    cfg = tmp_path / "cluster.yaml"
    budget = 30
    cfg.write_text(f"""\
name: cluster
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "search_helpers:SlowBenchmark", metric: {METRIC}, delay: 0.4}}
optimizer: {{name: evolution, population_size: 10, sample_size: 3}}
budget: {{queries: {budget}}}
parallel: {{backend: ray, workers: 2, address: "{cluster.address}", max_retries: 3}}
""")
    out = tmp_path / "out"
    driver = subprocess.Popen(
        [sys.executable, "-m", "nasearch", "run", str(cfg), "--out", str(out), "--no-progress"],
        env=cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 90
        seen: list[str] = []
        while time.time() < deadline and driver.poll() is None:
            seen = _count(out / "study.db")
            if len(seen) >= 8 and {head, node2} <= set(seen):
                break
            time.sleep(0.1)
        assert driver.poll() is None, driver.communicate()[1][-3000:]
        assert {head, node2} <= set(seen), f"both nodes should have evaluated cells: {seen}"
        cluster.note()
        os.kill(cluster.raylet("nasearch_node2"), signal.SIGKILL)  # the second node dies mid-run
        stdout, stderr = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, stderr[-3000:]
    recs = StudyTracker(storage_url(None, out), "cluster/seed-0", [(METRIC, True)]).records()
    assert len(recs) == budget and all(r.state == COMPLETE for r in recs)  # nothing lost
    assert len({r.key for r in recs}) == budget  # nothing evaluated twice
    assert {r.attrs["node"] for r in recs} == {head, node2}
    assert recs[-1].attrs["node"] == head  # after the loss, only the head evaluates
    lost_lines = [line for line in stderr.splitlines() if "was lost" in line]
    assert len(lost_lines) == 1 and lost_lines[0].startswith(f"nasearch: Ray node {node2[:12]}"), stderr[
        -3000:
    ]
    assert "state-dump" not in stderr and "Raylet is terminated" not in stderr, stderr[-3000:]


@pytest.mark.slow  # a fresh local Ray in a driver subprocess per case (~10 s each): not in the fast subset
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_driver_leaves_no_local_ray_behind(how, tmp_path):
    """A driver that started its own local Ray, killed: SIGTERM unwinds and shuts Ray down
    (status 143, one line); after kill -9 the watchdog stops what Ray leaves, and says so."""
    cfg = tmp_path / "local.yaml"
    cfg.write_text(f"""\
name: local
seeds: [0]
search_space: {{name: nasbench201}}
evaluator: {{name: "search_helpers:SlowBenchmark", metric: {METRIC}, delay: 0.3}}
optimizer: random
budget: {{queries: 500}}
parallel: {{backend: ray, workers: 1}}
""")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    log = tmp_path / "driver.log"  # a file, not a pipe: Ray's processes inherit it
    with open(log, "wb") as sink:
        driver = subprocess.Popen(
            [sys.executable, "-m", "nasearch", "run", str(cfg), "--out", str(out), "--no-progress"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.time() + 90
        while time.time() < deadline and driver.poll() is None:
            with (
                contextlib.suppress(sqlite3.OperationalError),
                sqlite3.connect(f"file:{out / 'study.db'}?mode=ro", uri=True, timeout=5) as con,
            ):
                if con.execute("select count(*) from trials").fetchone()[0] >= 2:
                    break
            time.sleep(0.1)
        assert driver.poll() is None, log.read_text()[-3000:]
        ray_processes = descendants(driver.pid)
        names = {open(f"/proc/{p}/cmdline").read().split("\0")[0] for p in ray_processes if _stat(p)}
        assert any("raylet" in n for n in names) and any("gcs_server" in n for n in names)
        driver.send_signal(getattr(signal, how))
        driver.wait(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
    deadline = time.time() + 20
    while time.time() < deadline:
        left = [p for p, start in ray_processes.items() if _running(p, start)]
        if not left:
            break
        time.sleep(0.5)
    assert not left, [open(f"/proc/{p}/cmdline").read().replace("\0", " ")[:80] for p in left]
    lines = log.read_text().splitlines()
    if how == "SIGKILL":
        assert "ended abruptly" in lines[-1]  # the watchdog's one line
    else:
        assert driver.returncode == 143
        assert lines == ["nasearch run: terminated (SIGTERM); completed evaluations are saved"]
        assert (out / "run.lock").read_text() == ""  # released on the way out
