"""ArchGraph, the registries, plug-in spaces, config validation and the small CLI commands."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nasearch.api.errors import ArchError, ConfigError, RegistryError
from nasearch.api.graph import ArchGraph
from nasearch.cli.main import main
from nasearch.config.loader import apply_overrides, load_yaml
from nasearch.config.registry import EVALUATORS, OPTIMIZERS, PREDICTORS, SEARCH_SPACES, Registry
from nasearch.search_spaces.examples.chain import ChainSpace


# --- ArchGraph -----------------------------------------------------------------------------------
def _diamond(mid: tuple[str, str]) -> ArchGraph:
    adj = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    return ArchGraph(("input", *mid, "output"), adj)


def test_key_is_invariant_to_relabelling_and_sensitive_to_ops() -> None:
    assert _diamond(("a", "b")).key == _diamond(("b", "a")).key
    assert _diamond(("a", "b")).key != _diamond(("a", "a")).key
    chain = ArchGraph(("input", "a", "b", "output"), np.eye(4, k=1))
    assert chain.key != _diamond(("a", "b")).key


def test_key_uses_attrs() -> None:
    adj = np.eye(3, k=1)
    a = ArchGraph(("input", "conv", "output"), adj, [{}, {"kernel": 3}, {}])
    b = ArchGraph(("input", "conv", "output"), adj, [{}, {"kernel": 5}, {}])
    assert a.key != b.key


@pytest.mark.parametrize(
    ("ops", "adj", "message"),
    [
        (("input",), [[0]], "at least an input and an output"),
        (("input", "output"), [[0, 1, 0], [0, 0, 0], [0, 0, 0]], "must be 2x2"),
        (("input", "output"), [[0, 2], [0, 0]], "only 0 and 1"),
        (("input", "output"), [[0, 0], [1, 0]], "strictly upper triangular"),
    ],
)
def test_archgraph_rejects_bad_input(ops, adj, message) -> None:
    with pytest.raises(ArchError, match=message):
        ArchGraph(ops, adj)


def test_archgraph_is_immutable_and_round_trips() -> None:
    g = _diamond(("a", "b"))
    with pytest.raises(AttributeError):
        g.ops = ("x",)  # type: ignore[misc]
    with pytest.raises(ValueError):
        g.adjacency[0, 1] = 0
    assert ArchGraph.from_dict(json.loads(json.dumps(g.to_dict()))) == g
    assert hash(ArchGraph.from_dict(g.to_dict())) == hash(g)


def test_archgraph_pickles() -> None:
    import pickle

    g = ArchGraph(("input", "conv", "output"), np.eye(3, k=1), [{}, {"kernel": 3}, {}])
    clone = pickle.loads(pickle.dumps(g))
    assert clone == g and clone.key == g.key
    with pytest.raises(AttributeError):
        clone.ops = ()  # type: ignore[misc]


def test_prune_drops_dangling_nodes() -> None:
    # node 2 has no path to the output
    g = ArchGraph(("input", "a", "b", "output"), [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert g.prune().ops == ("input", "a", "output")


# --- registries ----------------------------------------------------------------------------------
def test_builtin_names_resolve_lazily() -> None:
    assert SEARCH_SPACES.get("nasbench201").__name__ == "NasBench201Space"
    assert "nasbench101" in SEARCH_SPACES.names()
    for registry in (PREDICTORS, OPTIMIZERS, EVALUATORS):
        assert registry.names()


def test_entry_point_plugin_is_found() -> None:
    # nasearch.search_spaces.examples.chain is registered through setup.cfg's entry points only
    assert SEARCH_SPACES.get("chain") is ChainSpace
    assert "chain" in SEARCH_SPACES.sources()


def test_module_path_and_unknown_names() -> None:
    assert SEARCH_SPACES.get("nasearch.search_spaces.examples.chain:ChainSpace") is ChainSpace
    with pytest.raises(RegistryError, match="did you mean 'nasbench201'"):
        SEARCH_SPACES.get("nasbench210")
    with pytest.raises(RegistryError, match="cannot import module 'no_such_pkg.mod'"):
        SEARCH_SPACES.get("no_such_pkg.mod:Space")
    with pytest.raises(RegistryError, match="has no attribute 'Nope'"):
        SEARCH_SPACES.get("nasearch.search_spaces.examples.chain:Nope")


def test_plugin_breaking_the_contract_names_the_missing_method() -> None:
    class HalfSpace:
        def sample(self, rng):
            return 0

    registry = Registry("search space", "nasearch.test_group", {}, required=SEARCH_SPACES.required)
    with pytest.raises(RegistryError, match="missing method.*mutate, to_graph, key, to_str, from_str"):
        registry.register("half")(HalfSpace)


def test_create_validates_options() -> None:
    space = SEARCH_SPACES.create("chain", depth=3)
    assert space.depth == 3
    with pytest.raises(ConfigError, match="no option 'dept'; did you mean 'depth'"):
        SEARCH_SPACES.create("chain", dept=3)
    with pytest.raises(ConfigError, match="depth must be at least 1"):
        SEARCH_SPACES.create("chain", depth=0)


# --- the example plug-in space ---------------------------------------------------------------------
def test_chain_space_contract() -> None:
    space = ChainSpace()
    rng = np.random.default_rng(1)
    arch = space.sample(rng)
    assert space.from_str(space.to_str(arch)) == arch
    child = space.mutate(arch, rng)
    assert child != arch and child in space.neighbours(arch)
    graph = space.to_graph(arch)
    assert graph.n_nodes == space.depth + 2 and graph.attrs[1]["kernel"] in space.kernels
    assert space.from_categorical(space.to_categorical(arch)) == arch
    with pytest.raises(ArchError, match="outside the space"):
        space.from_str('[["conv", 7, 8], ["conv", 3, 8], ["conv", 3, 8], ["conv", 3, 8]]')


def test_chain_network_runs() -> None:
    import torch

    space = ChainSpace()
    net = space.network(space.sample(np.random.default_rng(0)), num_classes=10, in_channels=1)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


# --- config ----------------------------------------------------------------------------------------
def test_yaml_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbudget: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_yaml(bad)
    good = tmp_path / "good.yaml"
    good.write_text("name: x\nbudget:\n  queries: 5\n")
    data, source = load_yaml(good)
    assert source.where("budget.queries") == f"{good}, key 'budget.queries' (line 3)"
    assert apply_overrides(data, ["budget.queries=50", "seeds=[0, 1]"])["budget"]["queries"] == 50
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        apply_overrides(data, ["budget.queries"])


# --- CLI -------------------------------------------------------------------------------------------
def test_cli_query_nb201(capsys: pytest.CaptureFixture[str], data_root: Path) -> None:
    assert main(["query", "nasbench201", "6111"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["index"] == 6111 and round(record["cifar10-valid/valid_accuracy"], 2) == 91.61
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    assert main(["query", "nasbench201", arch]) == 0
    assert json.loads(capsys.readouterr().out)["index"] == 6111


def test_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str], data_root: Path) -> None:
    assert main(["query", "nasbench201", "|bad~0|"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nasearch query: error: NB201 arch string") and "Traceback" not in err
    assert main(["query", "nasbench210", "1"]) == 2
    assert "did you mean 'nasbench201'" in capsys.readouterr().err


def test_cli_spaces_and_data(capsys: pytest.CaptureFixture[str], data_root: Path) -> None:
    assert main(["spaces"]) == 0
    out = capsys.readouterr().out
    assert "nasbench201" in out and "chain" in out and "nnformer" in out
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "nasbench201/freerea/cifar10/accuracies.csv" in out and "embedded" in out


def test_console_script_is_installed(data_root: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nasearch", "query", "nasbench201", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["index"] == 0


def test_plugin_space_from_another_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user's own module, given as 'pkg.module:Class', works like a built-in space."""
    (tmp_path / "my_space.py").write_text(
        textwrap.dedent(
            """
        from nasearch.search_spaces.examples.chain import ChainSpace

        class TinyChain(ChainSpace):
            def __init__(self):
                super().__init__(depth=2, ops=("conv",), kernels=(3,), widths=(8, 16))
        """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    space = SEARCH_SPACES.create("my_space:TinyChain")
    assert len(space.neighbours(space.sample(np.random.default_rng(0)))) == 2


def test_experimental_class_warns_once() -> None:
    import warnings

    from nasearch.api.experimental import ExperimentalWarning, experimental_class

    @experimental_class(since="0.1.0")
    class Shiny:
        def __init__(self, x: int = 1) -> None:
            self.x = x

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Shiny(x=3).x == 3
        Shiny()
    assert [w.category for w in caught] == [ExperimentalWarning]
    assert "Shiny is experimental" in str(caught[0].message)
