"""Screenshots of optuna-dashboard on a real study, for the manual (run by hand, not in CI):

    apt-get install -y chromium            # Debian's package; needs pip install -e ".[dashboard]"
    python docs/screenshots.py             # -> docs/img/dashboard.png, docs/img/dashboard_analytics.png

It runs a small real-training search (the example ``chain`` space, 3 epochs on the embedded digits, 2
Ray workers) unless its run folder exists, serves the study with optuna-dashboard on localhost, and
photographs the study's pages with headless Chromium.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
RUN_DIR = ROOT / "runs" / "out" / "docs_dashboard"
PORT = 8765

RUN = """\
name: docs_dashboard
seeds: [0]
search_space: {name: chain, depth: 4}
evaluator: {name: train, dataset: digits, epochs: 4, batch_size: 64, learning_rate: 0.05, seed: 0}
optimizer: {name: evolution, population_size: 6, sample_size: 3}
budget: {queries: 16}
parallel: {backend: ray, workers: 2, resources: {num_cpus: 1, num_gpus: 0}}
"""

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def chromium() -> str:
    """The Chromium binary (Debian names it chromium)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no chromium on PATH: apt-get update && apt-get install -y chromium")


def ensure_run() -> str:
    """The run's storage URL, running the search first when its folder is missing."""
    if not (RUN_DIR / "study.db").is_file():
        from nasearch.cli.main import main

        RUN_DIR.parent.mkdir(parents=True, exist_ok=True)
        config = RUN_DIR.parent / "docs_dashboard.yaml"
        config.write_text(RUN)
        if main(["run", str(config), "--out", str(RUN_DIR), "--no-progress"]) != 0:
            raise SystemExit("the search failed")
    return f"sqlite:///{RUN_DIR.resolve() / 'study.db'}"


def study_id(url: str) -> int:
    """The storage id of the run's (only) study, which the dashboard's URLs use."""
    import optuna

    storage = optuna.storages.RDBStorage(url)
    return int(storage.get_study_id_from_name("docs_dashboard/seed-0"))


def wait_for(url: str, seconds: float = 60.0) -> None:
    """Wait until ``url`` answers."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def screenshot(browser: str, url: str, out: Path, height: int) -> None:
    """One headless-Chromium screenshot of ``url`` (JavaScript given time to draw the plots)."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size=1400,{height}",
                "--virtual-time-budget=20000",
                f"--screenshot={out}",
                url,
            ],
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def main() -> int:
    """Run (if needed), serve, photograph."""
    browser = chromium()
    url = ensure_run()
    sid = study_id(url)
    beside = Path(sys.executable).parent / "optuna-dashboard"
    dashboard = str(beside) if beside.is_file() else shutil.which("optuna-dashboard")
    if dashboard is None:
        raise SystemExit('no optuna-dashboard: pip install -e ".[dashboard]"')
    server = subprocess.Popen(
        [dashboard, url, "--host", "127.0.0.1", "--port", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{PORT}/dashboard/studies/{sid}"
        wait_for(f"http://127.0.0.1:{PORT}/dashboard")
        IMG.mkdir(parents=True, exist_ok=True)
        screenshot(browser, base, IMG / "dashboard.png", 2500)
        screenshot(browser, f"{base}/analytics", IMG / "dashboard_analytics.png", 2600)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"wrote {IMG / 'dashboard.png'} and {IMG / 'dashboard_analytics.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
