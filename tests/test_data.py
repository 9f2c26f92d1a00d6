"""The embedded benchmark tables: lookup order, checksums, `nasearch data`, fetching, and the wheel."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nasearch.api.errors import DataError
from nasearch.cli.main import main
from nasearch.data import manifest as data_manifest
from nasearch.data.fetch import OfficialFile, fetch
from nasearch.data.manifest import EMBEDDED_DIR, EMBEDDED_TABLES, load_manifest, verify
from nasearch.data.sources import EMBEDDED, DataSources
from nasearch.search_spaces.nasbench201.benchmark import NasBench201Benchmark

REPO = Path(__file__).resolve().parent.parent
C10 = "nasbench201/freerea/cifar10/accuracies.csv"


def _table_with(folder: Path, value: float) -> Path:
    """A data folder whose CIFAR-10 accuracy table gives cell 6111 ``value``, the rest as embedded."""
    text = gzip.decompress((EMBEDDED_DIR / (C10 + ".gz")).read_bytes()).decode()
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("6111,"))
    lines[row] = f"6111,{value}"
    path = folder / C10
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return folder


def _c10_6111(bench: NasBench201Benchmark) -> float:
    return bench.query(6111, ["cifar10/test_accuracy"])["cifar10/test_accuracy"]


# --- the embedded tables ---------------------------------------------------------------------------
def test_every_table_of_the_master_list_is_embedded_with_provenance_and_licenses() -> None:
    manifest = load_manifest()
    assert set(manifest) == set(EMBEDDED_TABLES)
    for top in {name.split("/")[0] for name in manifest}:
        assert "License" in (EMBEDDED_DIR / top / "LICENSES.md").read_text()
        assert "Source repo" in (EMBEDDED_DIR / top / "PROVENANCE.md").read_text()
    assert (
        manifest[C10].rows == 15625
        and manifest["nasbench101/freerea/nb101_test_acc_params.csv"].rows == 423624
    )
    assert verify() == []


def test_embedding_a_computed_table_again_reproduces_the_shipped_bytes_and_manifest(tmp_path: Path) -> None:
    root = tmp_path / "tables"
    shutil.copytree(EMBEDDED_DIR, root)
    name = next(iter(data_manifest.COMPUTED_TABLES))
    plain = tmp_path / "table.csv"
    plain.write_bytes(data_manifest.read_table_bytes(EMBEDDED_DIR / data_manifest.stored_name(name)))
    (root / data_manifest.stored_name(name)).unlink()
    entry = data_manifest.embed(name, plain, root)
    assert entry == load_manifest()[name]
    assert (root / data_manifest.MANIFEST_NAME).read_text() == (
        EMBEDDED_DIR / data_manifest.MANIFEST_NAME
    ).read_text()
    with pytest.raises(DataError, match="not a table nasearch computes"):
        data_manifest.embed(C10, plain, root)


def test_lookup_order_is_data_dir_then_env_then_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NASEARCH_DATA", raising=False)
    embedded = _c10_6111(NasBench201Benchmark())
    assert round(embedded, 2) == 94.37
    env, config = _table_with(tmp_path / "env", 11.0), _table_with(tmp_path / "config", 22.0)
    monkeypatch.setenv("NASEARCH_DATA", str(env))
    assert _c10_6111(NasBench201Benchmark()) == 11.0
    assert _c10_6111(NasBench201Benchmark(config)) == 22.0
    found = DataSources(config).find(C10)
    assert found is not None and found.origin == str(config)
    # a table the folders lack comes from the package
    assert DataSources(config).require("nasbench201/freerea/cifar100/accuracies.csv", "x").origin == EMBEDDED


def test_a_gzipped_table_in_a_data_folder_is_read_too(tmp_path: Path) -> None:
    folder = _table_with(tmp_path, 33.0)
    plain = folder / C10
    (folder / (C10 + ".gz")).write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    assert _c10_6111(NasBench201Benchmark(folder)) == 33.0


def test_an_embedded_table_is_decompressed_once_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "cache"))
    found = DataSources().require(C10, "x")
    entry = load_manifest()[C10]
    assert found.origin == EMBEDDED and found.path.is_relative_to(tmp_path / "cache")
    assert hashlib.sha256(found.path.read_bytes()).hexdigest() == entry.content_sha256
    assert DataSources().require(C10, "x").path == found.path  # later loads read the cached copy
    # no writable cache folder: the compressed table is read directly, with the same numbers
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "not-a-folder"))
    assert DataSources().require(C10, "x").path == EMBEDDED_DIR / entry.stored
    assert round(_c10_6111(NasBench201Benchmark()), 2) == 94.37


@pytest.fixture
def damaged_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the embedded tables with one byte of the CIFAR-10 table flipped, made the package's."""
    root = tmp_path / "tables"
    shutil.copytree(EMBEDDED_DIR, root)
    path = root / (C10 + ".gz")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr(data_manifest, "EMBEDDED_DIR", root)
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path / "cache"))  # no plain copy cached yet
    return root


def test_a_damaged_embedded_table_is_one_clear_error(damaged_package: Path) -> None:
    with pytest.raises(DataError, match="accuracies.csv.gz.*fails its checksum"):
        NasBench201Benchmark().column("cifar10/test_accuracy")
    problems = verify()
    assert [p.file for p in problems] == [C10 + ".gz"]


def test_cli_data_lists_and_verifies(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["data", "--verify"]) == 0
    out = capsys.readouterr().out
    assert "all checksums match" in out
    assert f"{C10}" in out and "15625 rows  embedded  [MIT]" in out
    assert "nasbench101/nasbench_only108.tfrecord" in out and "nasearch data fetch nasbench101_108" in out
    assert main(["data", "--verify", "--data-dir", str(_table_with(tmp_path, 1.0))]) == 0
    assert f"data folder {tmp_path}" in capsys.readouterr().out


def test_cli_data_verify_fails_naming_the_file(
    capsys: pytest.CaptureFixture[str], damaged_package: Path
) -> None:
    assert main(["data", "--verify"]) == 1
    out = capsys.readouterr().out
    assert "1 file(s) failed their checksum" in out
    assert next(line for line in out.splitlines() if "FAILED" in line).lstrip().startswith(C10)


# --- fetch ---------------------------------------------------------------------------------------------
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _Server(http.server.ThreadingHTTPServer):
    truncate_next: bool = False
    ranges: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD with Range support; can cut one response short (a dropped connection)."""

    server: _Server

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        start = 0
        if "Range" in self.headers:
            self.server.ranges.append(self.headers["Range"])
            start = int(self.headers["Range"].split("=")[1].rstrip("-"))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.server.truncate_next:
            self.server.truncate_next = False
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops mid-transfer
            return
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.ranges = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _file(sha256: str | None = None) -> OfficialFile:
    return OfficialFile(
        "toy",
        "toy/official.bin",
        "a test server",
        "MIT",
        sha256=sha256 or hashlib.sha256(PAYLOAD).hexdigest(),
    )


def _url(srv: _Server) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/official.bin"


def test_fetch_downloads_verifies_and_renames(server: _Server, tmp_path: Path) -> None:
    path = fetch(_file(), tmp_path, url=_url(server), progress=False)
    assert path == tmp_path / "toy/official.bin" and path.read_bytes() == PAYLOAD
    assert not (tmp_path / "toy/official.bin.part").exists()
    assert fetch(_file(), tmp_path, url=_url(server), progress=False) == path  # already there: no download


def test_fetch_resumes_a_truncated_download(server: _Server, tmp_path: Path) -> None:
    server.truncate_next = True
    with pytest.raises(DataError, match="run the same command to resume"):
        fetch(_file(), tmp_path, url=_url(server), progress=False)
    part = tmp_path / "toy/official.bin.part"
    assert 0 < part.stat().st_size < len(PAYLOAD) and not (tmp_path / "toy/official.bin").exists()
    done = part.stat().st_size
    path = fetch(_file(), tmp_path, url=_url(server), progress=False)
    assert server.ranges == [f"bytes={done}-"]  # only the rest was asked for
    assert path.read_bytes() == PAYLOAD


def test_fetch_rejects_a_wrong_checksum_and_keeps_nothing(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"is corrupt \(sha256 .* differs from the published 0000"):
        fetch(_file("0" * 64), tmp_path, url=_url(server), progress=False)
    assert list((tmp_path / "toy").iterdir()) == []


def test_fetch_offline_is_one_line_naming_the_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/nasbench_only108.tfrecord"
    assert (
        main(["data", "fetch", "nasbench101_108", "--data-dir", str(tmp_path), "--url", url, "--no-progress"])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"nasearch data: error: cannot download {url}") and "\n" not in err
    assert main(["data", "fetch", "nasbench201_v1_1", "--data-dir", str(tmp_path)]) == 2
    assert "Google Drive" in capsys.readouterr().err
    monkeypatch.delenv("NASEARCH_DATA", raising=False)
    assert main(["data", "fetch", "nasbench101_108"]) == 2
    assert "needs a data folder" in capsys.readouterr().err


# --- NB101's first use ----------------------------------------------------------------------------------
def test_first_nb101_use_says_it_builds_the_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nasearch.search_spaces.nasbench101 import index as index_module

    built = []
    monkeypatch.setattr(index_module, "build_index", lambda progress=False: built.append(progress) or "INDEX")
    monkeypatch.setattr(index_module, "save_index", lambda index, path: None)
    assert index_module.load_index(tmp_path / "index.npz") == "INDEX"
    assert built == [True]
    err = capsys.readouterr().err
    assert "first use of NAS-Bench-101: building its hash index" in err and str(tmp_path / "index.npz") in err


# --- the wheel ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_wheel_carries_the_tables_and_works_from_anywhere(tmp_path: Path) -> None:
    """A non-editable install (the built wheel, unpacked as pip installs it) answers NB201 and NB101
    queries from an unrelated folder with no data folder and no environment variable."""
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("nasearch-*.whl")
    assert wheel.stat().st_size < 15e6  # the budget the issue sets
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"nasearch/tables/{entry.stored}" for entry in load_manifest().values()} <= names
    assert "nasearch/tables/MANIFEST.json" in names and "nasearch/tables/nasbench201/LICENSES.md" in names
    # one namespace: nothing but nasearch lands in site-packages, and every source module is in it
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"nasearch"}
    for package, folder in (
        ("nasearch", "nasearch"),
        ("nasearch/predictors", "predictors"),
        ("nasearch/search_spaces", "search_spaces"),
    ):
        sources = {
            f"{package}/{p.relative_to(REPO / folder).as_posix()}"
            for p in (REPO / folder).rglob("*.py")
            if "__pycache__" not in p.parts
        }
        assert sources <= names, f"setup.cfg packages miss {sorted(sources - names)[:5]}"
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("NASEARCH_DATA", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    script = (
        "import json, nasearch, sys; from nasearch.cli.main import main; "
        "assert nasearch.__file__.startswith(sys.argv[1]), nasearch.__file__; "
        "sys.exit(main(['query', 'nasbench201', '6111']))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(site)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert round(json.loads(proc.stdout)["cifar10-valid/valid_accuracy"], 2) == 91.61
    nb101 = subprocess.run(
        [sys.executable, "-m", "nasearch", "query", "nasbench101", "00005c142e6f48ac74fdcf73e3439874"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert nb101.returncode == 0, nb101.stderr[-2000:]
    assert json.loads(nb101.stdout)["row"] == 0
    for top_level in ("predictors", "search_spaces"):  # outside the repo folder these names do not exist
        gone = subprocess.run(
            [sys.executable, "-c", f"import {top_level}"],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert gone.returncode != 0 and "No module named" in gone.stderr
