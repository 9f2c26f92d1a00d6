"""The full NB101 index on the real table: 423,624 hashes, row 0, the parameter proof on a large sample."""

from __future__ import annotations

import numpy as np
import pytest

from nasearch.api.graph import wl_hash
from nasearch.search_spaces.nasbench101.index import CACHE_NAME, load_index, read_index
from nasearch.search_spaces.nasbench101.network import count_params
from nasearch.search_spaces.nasbench101.spec import NUM_CELLS, labels, make_cell, module_hash

ROW0_HASH = "00005c142e6f48ac74fdcf73e3439874"


@pytest.fixture(scope="module")
def index():
    return load_index()


@pytest.fixture(scope="module")
def compact(data_root):
    from nasearch.search_spaces.nasbench101.benchmark import NasBench101Benchmark

    return NasBench101Benchmark(data_root, index=load_index())


def test_index_has_every_unique_cell_sorted_by_hash(index):
    assert len(index) == NUM_CELLS
    assert bool((index.hashes[1:] > index.hashes[:-1]).all())
    assert index.hash(0) == ROW0_HASH
    counts = np.bincount(index.n_vertices, minlength=8)
    # cells per vertex count, as the NAS-Bench-101 paper's enumeration gives (2..7 vertices)
    assert counts[2:].tolist() == [1, 6, 84, 2441, 62010, 359082]


def test_row0_is_the_smallest_hash_with_its_recorded_params(index, compact):
    # PROVENANCE.md: the record of 00005c14... has 8,555,530 parameters, 0.9206063151359558 test accuracy
    cell = make_cell(
        [
            [0, 1, 0, 0, 1, 1, 0],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 1],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        [
            "input",
            "conv3x3-bn-relu",
            "maxpool3x3",
            "conv3x3-bn-relu",
            "conv3x3-bn-relu",
            "conv1x1-bn-relu",
            "output",
        ],
    )
    assert module_hash(cell) == ROW0_HASH
    assert index.cell(0) == cell
    assert count_params(cell) == 8_555_530
    rec = compact.record(cell)
    assert rec["row"] == 0 and rec["hash"] == ROW0_HASH
    assert rec["cifar10/params"] == pytest.approx(8.55553)
    assert rec["cifar10/test_accuracy"] == pytest.approx(92.06063151359558)


def test_stored_cells_hash_to_their_rows(index):
    rng = np.random.default_rng(0)
    for row in rng.choice(NUM_CELLS, size=300, replace=False).tolist():
        cell = index.cell(row)
        assert make_cell(cell.matrix, cell.ops) == cell  # stored cells are valid and pruned
        assert wl_hash(np.array(cell.matrix), labels(cell.ops)) == index.hash(row)
        assert index.row(index.hash(row)) == row
    assert index.row("f" * 32) == -1


def test_any_labelled_form_of_a_cell_finds_its_row_without_hashing(index):
    """row_of_cell (a table lookup) agrees with the hash computed one cell at a time."""
    from nasearch.search_spaces.nasbench101.space import NasBench101Space

    rng = np.random.default_rng(2)
    paper = NasBench101Space(sampling="nasbench")
    for _ in range(300):
        cell = paper.sample(rng)  # arbitrary vertex order, not the stored representative
        n = cell.n_vertices
        perm = [0, *(rng.permutation(n - 2) + 1).tolist(), n - 1]
        m = np.array(cell.matrix)[np.ix_(perm, perm)]
        if np.tril(m).any():  # the permutation broke the topological order: skip
            m, perm = np.array(cell.matrix), list(range(n))
        other = make_cell(m.tolist(), [cell.ops[i] for i in perm])
        expected = wl_hash(np.array(cell.matrix), labels(cell.ops))
        assert index.hash(index.row_of_cell(cell)) == expected
        assert index.hash(index.row_of_cell(other)) == expected


def test_parameter_count_matches_the_table_on_a_large_random_sample(index, compact):
    """The proof of the row order: params from each row's spec equal the recorded params (50,000 rows)."""
    rng = np.random.default_rng(1)
    rows = rng.choice(NUM_CELLS, size=50_000, replace=False)
    recorded = np.rint(compact.column("cifar10/params")[rows] * 1e6).astype(np.int64)
    computed = np.array([count_params(index.cell(r)) for r in rows.tolist()])
    mismatches = rows[computed != recorded]
    assert mismatches.size == 0, f"{mismatches.size} rows disagree, first {mismatches[:5].tolist()}"
    # the check is sharp: a shifted row order fails almost everywhere
    assert np.mean(computed[:-1] == recorded[1:]) < 0.05


def test_cache_is_plain_arrays_and_reloads(index, tmp_path):
    from nasearch.data.sources import cache_dir

    path = cache_dir() / CACHE_NAME
    assert path.is_file()
    again = read_index(path)
    assert np.array_equal(again.hashes, index.hashes) and np.array_equal(again.bits, index.bits)
    broken = tmp_path / CACHE_NAME
    broken.write_bytes(b"not an npz")
    from nasearch.api.errors import DataError

    with pytest.raises(DataError, match="cannot read the NB101 index cache"):
        read_index(broken)
