"""Run-config validation: every error names the file, the key and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasearch.api.errors import ConfigError
from nasearch.config.run_schema import load_run_config

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
name: t
seeds: [0, 1]
search_space: {name: nasbench201}
evaluator:
  name: benchmark
  metric: cifar10-valid/valid_accuracy
optimizer:
  name: evolution
  options: {population_size: 20}
  sample_size: 5
budget: {queries: 50}
parallel: {backend: serial}
"""


def write(tmp_path, text):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return str(path)


def test_a_good_config_and_overrides(tmp_path):
    cfg = load_run_config(write(tmp_path, GOOD), ["budget.queries=7", "seeds=[3]", "parallel.workers=4"])
    assert cfg.budget.queries == 7 and cfg.seeds == [3] and cfg.parallel.workers == 4
    assert cfg.optimizers[0].name == "evolution"
    assert cfg.optimizers[0].options == {"population_size": 20, "sample_size": 5}
    assert load_run_config(write(tmp_path, GOOD), ["seeds=3"]).seeds == [0, 1, 2]


@pytest.mark.parametrize(
    "old,new,message",
    [
        (
            "budget: {queries: 50}",
            "budget: {querys: 50}",
            r"run.yaml, key 'budget.querys' \(line 11\): unknown key 'querys'; did you mean 'queries'\?",
        ),
        (
            "seeds: [0, 1]",
            "sedes: [0, 1]",
            r"key 'sedes' \(line 2\): unknown key 'sedes'; did you mean 'seeds'\?",
        ),
        (
            "budget: {queries: 50}",
            "budget: {queries: many}",
            r"key 'budget.queries' \(line 11\): expected int \| None, got 'many'",
        ),
        ("budget: {queries: 50}", "budget: {}", r"give budget.queries and/or budget.simulated_seconds"),
        (
            "parallel: {backend: serial}",
            "parallel: {backend: dask}",
            r"key 'parallel.backend' \(line 12\): must be one of 'ray', 'serial'",
        ),
        (
            "  name: evolution",
            "  name: evolutoin",
            r"key 'optimizer.name' \(line 8\): unknown optimizer 'evolutoin'; did you mean 'evolution'",
        ),
        (
            "  sample_size: 5",
            "  sample_sise: 5",
            r"key 'optimizer.sample_sise' \(line 10\): optimizer 'evolution' has no option 'sample_sise'; "
            r"did you mean 'sample_size'\?",
        ),
        (
            "  options: {population_size: 20}",
            "  options: {populaton_size: 20}",
            r"key 'optimizer.options.populaton_size' \(line 9\).*did you mean 'population_size'",
        ),
        (
            "search_space: {name: nasbench201}",
            "search_space: {name: nasbench210}",
            r"key 'search_space.name' \(line 3\): unknown search space 'nasbench210'; did you mean 'nasbench201'",
        ),
        (
            "  name: benchmark",
            "  name: benchmrk",
            r"key 'evaluator.name' \(line 5\): unknown evaluator 'benchmrk'; did you mean 'benchmark'",
        ),
        ("  sample_size: 5", "  seed: 5", r"key 'optimizer.seed' \(line 10\): 'seed' is set by the runner"),
        ("seeds: [0, 1]", "seeds: [0, 0]", r"seeds must be distinct"),
        ("name: t", "name: a/b", r"key 'name' \(line 1\): a run name must be non-empty and contain no '/'"),
        (
            "  options: {population_size: 20}",
            "  options: [20]",
            r"key 'optimizer.options' \(line 9\): expected a mapping of options",
        ),
    ],
)
def test_errors_point_at_file_key_and_line(tmp_path, old, new, message):
    assert old in GOOD
    with pytest.raises(ConfigError, match=message):
        load_run_config(write(tmp_path, GOOD.replace(old, new)))


def test_surrogate_blocks_are_checked(tmp_path):
    text = GOOD.replace(
        "  name: evolution\n  options: {population_size: 20}\n  sample_size: 5\n",
        "  name: predictor_evolution\n  surrogate: {name: nnformr}\n",
    )
    with pytest.raises(
        ConfigError,
        match=r"key 'optimizer.surrogate.name' \(line 9\).*unknown predictor 'nnformr'; did you mean 'nnformer'",
    ):
        load_run_config(write(tmp_path, text))
    text = text.replace("{name: nnformr}", "{name: nnformer, dimm: 16}")
    with pytest.raises(ConfigError, match=r"key 'optimizer.surrogate'.*has no option 'dimm'"):
        load_run_config(write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"optimizer 'evolution' has no option 'surrogate'"):
        load_run_config(write(tmp_path, GOOD.replace("  sample_size: 5", "  surrogate: mlp")))


def test_a_misspelt_inherited_option_is_named_with_a_suggestion(tmp_path):
    """bayesian forwards its base's options (num_init, pool_size, ...) as **options: a typo in one is
    still named with the closest option and the full list, and their types are still checked."""
    text = GOOD.replace(
        "  name: evolution\n  options: {population_size: 20}\n  sample_size: 5\n",
        "  name: bayesian\n  surrogate: {name: mlp}\n  pool_sise: 50\n",
    )
    with pytest.raises(
        ConfigError,
        match=r"key 'optimizer.pool_sise' \(line 10\): optimizer 'bayesian' has no "
        r"option 'pool_sise'; did you mean 'pool_size'\?",
    ) as info:
        load_run_config(write(tmp_path, text))
    listed = str(info.value).split("(options: ")[1].rstrip(")").split(", ")
    assert {
        "surrogate",
        "num_init",
        "k",
        "num_parents",
        "pool_size",
        "max_edits",
        "ensemble_size",
        "acquisition",
        "beta",
        "random_candidates",
    } == set(listed)
    with pytest.raises(
        ConfigError, match=r"key 'optimizer.num_init' \(line 10\): expected an integer, got 'ten'"
    ):
        load_run_config(write(tmp_path, text.replace("pool_sise: 50", "num_init: ten")))
    cfg = load_run_config(write(tmp_path, text.replace("pool_sise: 50", "pool_size: 50")))
    assert cfg.optimizers[0].options == {"surrogate": {"name": "mlp"}, "pool_size": 50}


def test_a_list_of_optimizers_gets_unique_labels(tmp_path):
    text = GOOD.replace(
        "optimizer:\n  name: evolution\n  options: {population_size: 20}\n  sample_size: 5\n",
        "optimizer:\n  - {name: random}\n  - {name: optuna, label: tpe}\n  - {name: optuna, sampler: gp, label: gp}\n",
    )
    cfg = load_run_config(write(tmp_path, text))
    assert [b.label for b in cfg.optimizers] == ["random", "tpe", "gp"]
    with pytest.raises(ConfigError, match="labels must be unique, repeated: random"):
        load_run_config(write(tmp_path, text.replace("label: tpe", "label: random")))


def test_missing_file_and_bad_set(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_run_config(str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_run_config(write(tmp_path, GOOD), ["budget.queries"])


RUN_CONFIGS = sorted(p for p in (REPO / "runs").glob("*.yaml") if "\noptimizer:" in p.read_text())


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: p.name)
def test_every_shipped_run_config_validates(path):
    cfg = load_run_config(str(path))
    assert cfg.name and cfg.optimizers and cfg.budget
