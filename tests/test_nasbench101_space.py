"""The NB101 space: registry, sample / mutate / neighbours, strings, the benchmark and ``nasearch query``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasearch.api.errors import ArchError
from nasearch.cli.main import main
from nasearch.config.registry import SEARCH_SPACES
from nasearch.search_spaces.nasbench101.index import load_index
from nasearch.search_spaces.nasbench101.spec import (
    MAX_EDGES,
    MAX_VERTICES,
    NUM_CELLS,
    Cell,
    make_cell,
    module_hash,
)

ROW0_HASH = "00005c142e6f48ac74fdcf73e3439874"
SIMPLE = '{"matrix": [[0, 1, 0], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv3x3-bn-relu", "output"]}'


@pytest.fixture(scope="module")
def space(data_root):
    s = SEARCH_SPACES.create("nasbench101", data_dir=str(data_root))
    s._index = load_index()
    return s


def _is_valid(cell: Cell) -> bool:
    small = cell.n_vertices <= MAX_VERTICES and cell.n_edges <= MAX_EDGES
    return make_cell(cell.matrix, cell.ops) == cell and small


def test_registry_resolves_the_space(space):
    from nasearch.search_spaces.nasbench101.space import NasBench101Space

    assert isinstance(space, NasBench101Space) and space.name == "nasbench101"
    with pytest.raises(ArchError, match="sampling must be one of"):
        NasBench101Space(sampling="greedy")


def test_uniform_sampling_covers_rows_uniformly(space):
    rng = np.random.default_rng(0)
    cells = [space.sample(rng) for _ in range(2000)]
    assert all(_is_valid(c) for c in cells[:200])
    rows = np.array([space.index(c) for c in cells])
    # uniform over rows: each decile of the row range holds about 10 %
    share = np.bincount(rows * 10 // NUM_CELLS, minlength=10) / len(rows)
    assert share.min() > 0.07 and share.max() < 0.13
    # 7-vertex cells are 359,082 / 423,624 = 84.8 % of the space
    assert np.mean([c.n_vertices == 7 for c in cells]) == pytest.approx(0.848, abs=0.03)


def test_nasbench_style_sampling_is_valid_and_differs_from_uniform(space, data_root):
    from nasearch.search_spaces.nasbench101.space import NasBench101Space

    paper = NasBench101Space(data_dir=str(data_root), sampling="nasbench")
    rng = np.random.default_rng(1)
    cells = [paper.sample(rng) for _ in range(500)]
    assert all(_is_valid(c) for c in cells)
    # rejection sampling of 7x7 matrices favours small pruned cells more than the uniform draw does
    assert np.mean([c.n_vertices == 7 for c in cells]) < 0.8


def test_mutate_gives_a_valid_different_cell_and_can_grow(space):
    rng = np.random.default_rng(2)
    small = space.parse(SIMPLE)
    sizes = set()
    for _ in range(300):
        child = space.mutate(small, rng)
        assert _is_valid(child) and module_hash(child) != module_hash(small)
        sizes.add(child.n_vertices)
    assert max(sizes) > small.n_vertices  # dangling vertices of the 7-vertex form can join
    cell = space.sample(rng)
    for _ in range(200):
        child = space.mutate(cell, rng)
        assert _is_valid(child) and space.key(child) != space.key(cell)
        cell = child


def test_neighbours_are_valid_unique_and_one_step_away(space):
    cell = space.parse(SIMPLE)
    nbrs = space.neighbours(cell)
    keys = [space.key(c) for c in nbrs]
    assert len(set(keys)) == len(keys) and space.key(cell) not in keys
    assert all(_is_valid(c) for c in nbrs)
    # op changes (2), input->output edge added (1), new vertex wired in at 2 places x 3 ops (minus repeats)
    assert {c.n_vertices for c in nbrs} == {3, 4}
    assert any(c.ops[1] == "maxpool3x3" and c.n_vertices == 3 for c in nbrs)
    rng = np.random.default_rng(3)
    for _ in range(20):
        c = space.sample(rng)
        for n in space.neighbours(c):
            assert _is_valid(n) and space.key(n) != space.key(c)


def test_strings_round_trip_and_parse_accepts_hash_and_row(space):
    rng = np.random.default_rng(4)
    for _ in range(50):
        c = space.sample(rng)
        assert space.from_str(space.to_str(c)) == c
        assert hash(c) == hash(space.from_str(space.to_str(c)))
    assert space.index(space.parse(ROW0_HASH)) == 0
    assert space.parse("0") == space.from_index(0)
    with pytest.raises(ArchError, match="no NB101 cell has the module hash"):
        space.parse("0" * 32)
    with pytest.raises(ArchError, match="give a JSON spec"):
        space.parse("resnet")


def test_to_graph_gives_the_nb101_op_names(space):
    g = space.to_graph(space.from_index(0))
    assert g.ops[0] == "input" and g.ops[-1] == "output"
    assert set(g.ops[1:-1]) <= {"conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"}
    assert g.n_edges == space.from_index(0).n_edges


def test_enumerate_is_in_row_order(space):
    it = space.enumerate()
    first = [next(it) for _ in range(3)]
    assert [space.index(c) for c in first] == [0, 1, 2]


def test_categorical_round_trip_and_invalid_choice(space):
    rng = np.random.default_rng(5)
    for _ in range(30):
        c = space.sample(rng)
        assert space.key(space.from_categorical(space.to_categorical(c))) == space.key(c)
    params = {k: 0 for k in space.categorical_choices() if k.startswith("edge")}
    params.update({f"op_{t}": "conv3x3-bn-relu" for t in range(1, 6)})
    with pytest.raises(ArchError, match="no path"):
        space.from_categorical(params)


def test_benchmark_query_and_column_in_row_order(space):
    bench = space.benchmark()
    assert set(bench.metrics()) == {"cifar10/test_accuracy", "cifar10/params"}
    acc = bench.column("cifar10/test_accuracy")
    assert acc.shape == (NUM_CELLS,)
    # the NAS-Bench-101 paper: best mean test accuracy 94.32 %
    assert bench.optimum("cifar10/test_accuracy").value == pytest.approx(94.3176, abs=1e-3)
    best = int(np.argmax(acc))
    cell = space.from_index(best)
    assert bench.query(cell, ["cifar10/test_accuracy"]) == {"cifar10/test_accuracy": acc[best]}
    simple = space.parse(SIMPLE)
    assert bench.row(SIMPLE) == bench.row(simple) == bench.row(space.to_graph(simple))
    with pytest.raises(ArchError, match="no NB101 cell has the module hash"):
        bench.row("0" * 32)
    with pytest.raises(ArchError, match="need the official tfrecord"):
        bench.query(cell, ["cifar10/valid_accuracy@108ep"])


def test_cli_query_prints_the_record(capsys, data_root):
    assert main(["query", "nasbench101", SIMPLE, "--data-dir", str(data_root)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert set(rec) >= {"hash", "row", "cifar10/test_accuracy", "cifar10/params"}
    assert json.loads(rec["spec"])["ops"] == ["input", "conv3x3-bn-relu", "output"]
    assert main(["query", "nasbench101", ROW0_HASH, "--data-dir", str(data_root)]) == 0
    assert json.loads(capsys.readouterr().out)["row"] == 0


@pytest.mark.parametrize(
    "spec, message",
    [
        ('{"matrix": [[0,1,0],[0,0,1],[0,0,0]], "ops": ["input","conv5x5","output"]}', "unknown NB101 op"),
        ('{"matrix": [[0,1],[1,0]], "ops": ["input","output"]}', "not strictly upper triangular"),
        ('{"matrix": [[0,1,0],[0,0,0],[0,0,0]], "ops": ["input","maxpool3x3","output"]}', "no path"),
    ],
)
def test_cli_query_invalid_spec_is_one_clear_error(capsys, data_root, spec, message):
    assert main(["query", "nasbench101", spec, "--data-dir", str(data_root)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_key_without_a_cached_index_hashes_and_never_builds(tmp_path, monkeypatch):
    from nasearch.search_spaces.nasbench101.space import NasBench101Space

    index = load_index()  # the shared one, read before the cache folder moves
    monkeypatch.setenv("NASEARCH_CACHE", str(tmp_path))
    fresh = NasBench101Space(sampling="nasbench")
    rng = np.random.default_rng(6)
    cells = [fresh.sample(rng) for _ in range(20)]
    assert [fresh.key(c) for c in cells] == [index.hash(index.row_of_cell(c)) for c in cells]
    assert list(tmp_path.iterdir()) == []
