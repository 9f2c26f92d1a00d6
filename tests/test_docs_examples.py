"""The manual's example plug-ins (docs/examples) run as the manual says they do: a search with the
example space, evaluator and optimizer named by module path from their config's folder, a
compare with the example predictor and split protocol on the real NAS-Bench-201 tables, and the
example plug-ins tested with ``nasearch.testing`` as their author would (docs/examples/test_my_plugins.py)."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from nasearch.cli.main import main
from nasearch.testing import EVALUATOR_CHECKS, OPTIMIZER_CHECKS, PREDICTOR_CHECKS, SPACE_CHECKS

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


EXAMPLE_MODULES = ("my_space", "my_evaluator", "my_optimizer", "my_predictor", "my_protocol", "protocol_only")
#: what nasearch.testing checks of the four example plug-ins: space, predictor, evaluator, optimizer
KIT_CASES = ("stages", "OpCountRidge", "ParamCount", "MutateBest")


@pytest.fixture(autouse=True)
def forget_example_modules():  # type: ignore[no-untyped-def]
    """The examples' generic module names (``my_space`` ...) must not leak into other tests."""
    yield
    for name in EXAMPLE_MODULES:
        sys.modules.pop(name, None)


@pytest.fixture()
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from an unrelated folder, with neither it nor the examples on sys.path."""
    monkeypatch.chdir(tmp_path)
    cwd = os.getcwd()
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", cwd, str(EXAMPLES))])
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    return tmp_path


def test_example_space_evaluator_and_optimizer_search(elsewhere: Path) -> None:
    from nasearch.curves import load_run

    out = elsewhere / "out"
    assert main(["run", str(EXAMPLES / "run.yaml"), "--out", str(out), "--no-progress"]) == 0
    studies = load_run(out)
    assert len(studies) == 2 and all(s.objective == "params_m" and not s.maximize for s in studies)
    for s in studies:
        assert len(s.records) == 30 and all(r.state == "COMPLETE" for r in s.records)
        values = [r.metrics["params_m"] for r in s.records]
        assert all(math.isfinite(v) and v > 0 for v in values)
        assert min(values) < values[0]  # the hill climber improves on its first cell
        assert len({r.key for r in s.records}) == 30  # no cell evaluated twice


def test_example_space_trains_with_the_train_evaluator() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from my_space import StagesSpace
    finally:
        sys.path.remove(str(EXAMPLES))
    from nasearch.evaluation.training import TrainingEvaluator

    space = StagesSpace(stages=2)
    arch = space.from_str("[[3, 3, 1], [5, 3, 1]]")
    result = TrainingEvaluator(space, epochs=2, dataset="digits", num_threads=1).evaluate(arch)
    assert result.metrics["valid_accuracy"] > 20.0  # chance is 10% on the 10 digits
    assert sorted(result.info["intermediate_values"]) == [1, 2]


def test_example_predictor_and_protocol_compare(elsewhere: Path) -> None:
    out = elsewhere / "cmp"
    assert main(["compare", str(EXAMPLES / "compare.yaml"), "--out", str(out)]) == 0
    frame = pd.read_csv(out / "results.csv")
    assert sorted(frame["predictor"].unique()) == ["ops_ridge", "random_forest"]
    assert set(frame["split"]) == {"cheapest_first"} and sorted(frame["train_size"].unique()) == [100, 1000]
    assert ((frame["train_size"] + frame["n_test"]) == 15625).all()
    assert frame["kendall_tau"].between(-1, 1).all()


def test_a_split_protocol_alone_resolves_from_the_config_folder(elsewhere: Path) -> None:
    """No other plug-in in the config: the protocol's module is still found beside the YAML."""
    config = elsewhere / "cfg"
    config.mkdir()
    shutil.copy(EXAMPLES / "my_protocol.py", config / "protocol_only.py")
    text = (EXAMPLES / "compare.yaml").read_text().replace("my_protocol:", "protocol_only:")
    text = text.replace('ops_ridge: {name: "my_predictor:OpCountRidge", alpha: 1.0}\n', "")
    (config / "compare.yaml").write_text(text.replace("sizes: [100, 1000]", "sizes: [100]"))
    assert main(["compare", str(config / "compare.yaml"), "--out", str(elsewhere / "c")]) == 0
    assert set(pd.read_csv(elsewhere / "c" / "results.csv")["split"]) == {"cheapest_first"}


def test_the_example_plugins_pass_the_kit(tmp_path: Path) -> None:
    """docs/examples/test_my_plugins.py, run by pytest as a plug-in author runs it: one test per
    example plug-in and check of ``nasearch.testing``, each passed or skipped with a reason (a
    capability the space does not offer), and the plain ``check_space`` beside them."""
    report = tmp_path / "report.xml"
    options = ["-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
    command = [sys.executable, "-m", "pytest", str(EXAMPLES / "test_my_plugins.py"), *options]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcomes: Counter[tuple[str, str]] = Counter()
    for case in ET.parse(report).getroot().iter("testcase"):
        name = case.get("name", "")
        results = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        subject = name[name.index("[") + 1 : name.index("-")] if "[" in name else name
        outcomes[subject, results[0] if results else "passed"] += 1
    counts = dict(zip(KIT_CASES, (SPACE_CHECKS, PREDICTOR_CHECKS, EVALUATOR_CHECKS, OPTIMIZER_CHECKS)))
    for subject, checks in counts.items():
        assert outcomes[subject, "passed"] + outcomes[subject, "skipped"] == len(checks), outcomes
    assert outcomes["test_without_pytest_helpers", "passed"] == 1
    assert outcomes["stages", "passed"] >= 6 and outcomes["MutateBest", "passed"] == 2, outcomes
    assert not {o for _, o in outcomes} - {"passed", "skipped"}, outcomes
