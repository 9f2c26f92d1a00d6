"""One shape per concept (#28): the objective, the run folder's record, the optimum, the surrogate
spec and ensemble member seeds, each decided in one place."""

from __future__ import annotations

import json

import pytest

from nasearch.api.ensemble import combine, derived_seed
from nasearch.api.errors import ConfigError, DeviceError, OptionError
from nasearch.api.objective import Objective, objective_list, stored_objectives, stored_pairs
from nasearch.cli.main import main
from nasearch.config.surrogate import PredictorFactory, resolve_predictor
from nasearch.optimizers.surrogate import Surrogate
from nasearch.search import run_record
from nasearch.search.failures import SETUP, classify
from nasearch.search.trajectory import KnownOptimum

METRIC = "cifar10-valid/valid_accuracy"
#: the keys of run.json, in the order every version of nasearch has written them
RUN_JSON_KEYS = [
    "name",
    "run_id",
    "study_prefix",
    "storage",
    "objectives",
    "test_metric",
    "search_space",
    "optimum",
    "optimum_key",
    "optimum_arch",
    "test_optimum",
    "reference_point",
    "studies",
]


def test_every_spelling_of_an_objective_is_one_objective():
    spelled = [
        {"metric": "a", "direction": "maximize"},
        ["b", "minimize"],
        {"metric": "c"},
        Objective("d", False),
    ]
    assert objective_list(spelled) == [("a", True), ("b", False), ("c", True), ("d", False)]
    assert all(isinstance(o, Objective) for o in objective_list(spelled))
    assert stored_objectives(stored_pairs(objective_list(spelled))) == objective_list(spelled)
    assert json.loads(json.dumps(stored_pairs([Objective("a", True)]))) == [["a", True]]


@pytest.mark.parametrize(
    "bad, message",
    [
        ([], "give at least one"),
        ([{"metric": "a", "direction": "up"}], r"objectives\[0\]: direction must be maximize or minimize"),
        ([{"direction": "maximize"}], r"objectives\[0\]: expected \{metric: NAME"),
        (["a"], r"objectives\[0\]: expected \{metric, direction\}"),
        ([["a", True]], "direction must be maximize or minimize, got True"),  # YAML spells the direction out
    ],
)
def test_a_bad_objective_is_one_config_error(bad, message):
    with pytest.raises(ConfigError, match=message):
        objective_list(bad)


def test_the_run_record_reads_and_writes_run_json_unchanged(tmp_path, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(f"""\
name: r
seeds: [0, 1]
search_space: {{name: nasbench201}}
evaluator: {{name: benchmark, metric: {METRIC}}}
optimizer: {{name: random}}
budget: {{queries: 4}}
parallel: {{backend: serial}}
""")
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    raw = json.loads((out / "run.json").read_text())
    assert list(raw) == RUN_JSON_KEYS
    record = run_record.read(out)
    assert record.objectives == [(METRIC, True)] and record.search_space == "nasbench201"
    assert [(s.label, s.seed) for s in record.studies] == [("random", 0), ("random", 1)]
    assert record.optimum.value == pytest.approx(91.60666665) and record.optimum.key is not None
    assert record.to_json() == raw  # the typed record writes exactly what it read
    (tmp_path / "copy").mkdir()
    record.write(tmp_path / "copy")  # written through safeio: the same bytes as the loop wrote
    assert (tmp_path / "copy" / "run.json").read_text() == (out / "run.json").read_text()


def test_a_run_json_from_before_run_identities_still_reads(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    old = {
        "name": "old",
        "storage": "sqlite:///x.db",
        "objectives": [[METRIC, True]],
        "test_metric": None,
        "optimum": 91.6,
    }
    (folder / "run.json").write_text(json.dumps(old))
    record = run_record.read(folder)
    assert record.run_id is None and record.prefix == "old" and record.studies == []
    assert record.optimum == KnownOptimum(value=91.6)


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "no run.json"),
        ("{", "damaged run.json"),
        ("[1]", "damaged run.json"),
        ('{"name": "x"}', "damaged run.json"),
    ],
)
def test_a_missing_or_damaged_run_json_is_one_config_error(tmp_path, text, message):
    if text is not None:
        (tmp_path / "run.json").write_text(text)
    with pytest.raises(ConfigError, match=message):
        run_record.read(tmp_path)


def test_the_optimum_is_recorded_and_read_back_by_one_definition():
    known = KnownOptimum(value=91.6, key="k", arch="|a|", test_value=None)
    assert known.attrs() == {"optimum": 91.6, "optimum_key": "k", "optimum_arch": "|a|"}
    assert KnownOptimum.from_attrs(known.attrs()) == known
    target = known.target(maximize=True)
    assert target.reached_by("k", 0.0) and not target.reached_by("other", 99.0)  # the key decides
    assert KnownOptimum(value=91.6).target(True).reached_by("any", 91.7)  # no key: the value decides
    assert not KnownOptimum().target(True).known


def test_member_seeds_never_collide_where_the_old_arithmetic_did():
    old = {(s, f, i): s * 1000 + f * 10 + i for s in range(3) for f in range(150) for i in range(12)}
    assert len(set(old.values())) < len(old)  # e.g. seed 0 after 100 refits is seed 1's first
    new = {key: derived_seed(*key) for key in old}
    assert len(set(new.values())) == len(new)
    assert all(0 <= v < 2**32 for v in new.values())
    assert derived_seed(3, 4, 5) == derived_seed(3, 4, 5)  # reproducible


def test_an_ensemble_combines_its_members_by_one_rule():
    mean, std = combine([[1.0, 2.0], [3.0, 2.0]])
    assert mean.tolist() == [2.0, 2.0] and std.tolist() == [1.0, 0.0]


def test_the_surrogate_spec_is_resolved_once_into_a_factory():
    factory = resolve_predictor({"name": "search_helpers:RidgeSurrogate", "alpha": 2.0})
    assert isinstance(factory, PredictorFactory) and factory.takes_seed
    assert resolve_predictor(factory) is factory
    member = factory(7)
    assert member.seed == 7 and member.alpha == 2.0
    surrogate = Surrogate(factory, seed=3, ensemble_size=2)
    assert surrogate.factory is factory


def test_a_predictor_refusing_a_seed_is_found_once_not_retried(tmp_path):
    from search_helpers import OptionsOnlySurrogate

    factory = resolve_predictor({"name": "search_helpers:OptionsOnlySurrogate", "alpha": 3.0})
    assert not factory.takes_seed
    OptionsOnlySurrogate.built.clear()
    member = factory(11)  # no seed passed, no ConfigError to retry after
    assert member.alpha == 3.0 and OptionsOnlySurrogate.built == [{"alpha": 3.0}]


def test_option_and_device_errors_are_set_up_failures_not_the_cells():
    assert classify(OptionError("x")) == SETUP and classify(DeviceError("x")) == SETUP
    from nasearch.data.devices import resolve_device

    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("no_such_chip")
