"""NB101 specs: validity rules with one clear error each, pruning as ModelSpec, and the official hash."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasearch.api.errors import ArchError
from nasearch.api.graph import wl_hash
from nasearch.search_spaces.nasbench101.enumerate import (
    _hash_vertex_count,
    _Hasher,
    adjacency_of_bits,
    canonical_graphs,
    full_dag_bits,
    op_labels,
)
from nasearch.search_spaces.nasbench101.spec import (
    OPS,
    cell_from_json,
    cell_to_json,
    decode,
    encode,
    labels,
    make_cell,
    module_hash,
    prune,
)

C3, C1, MP = OPS
# the README example of google-research/nasbench: an Inception-like cell
INCEPTION = (
    [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    ["input", C1, C3, C3, C3, MP, "output"],
)


def test_pruning_removes_vertices_off_every_path():
    # vertex 2 is fed by the input but feeds nothing; vertex 3 feeds the output but has no input
    matrix = [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    ops = ["input", C3, C1, MP, "output"]
    pm, pops = prune(matrix, ops)
    assert pm == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert pops == ["input", C3, "output"]
    cell = make_cell(matrix, ops)
    assert cell.matrix == ((0, 1, 0), (0, 0, 1), (0, 0, 0)) and cell.n_vertices == 3


def test_pruning_makes_an_over_budget_spec_valid_as_the_original_library():
    # 10 edges before pruning, but vertex 5 is dangling; after pruning 7 edges remain
    m = np.zeros((7, 7), dtype=int)
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6), (0, 6), (1, 6), (0, 5), (1, 5), (2, 5)]:
        m[i, j] = 1
    cell = make_cell(m.tolist(), ["input", C3, C3, C3, C3, C1, "output"])
    assert cell.n_vertices == 6 and cell.n_edges == 7


@pytest.mark.parametrize(
    "matrix, ops, message",
    [
        ([[0, 1], [0, 0]], ["input", "output", "x"], "one op per vertex"),
        ([[0, 1], [1, 0]], ["input", "output"], "upper triangular"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "unknown NB101 op 'conv5x5'"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["output", C3, "input"], "first op must be 'input'"),
        ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"], "no path from the input"),
        ([[0, 2], [0, 0]], ["input", "output"], "must be 0 or 1, got 2"),
        ([[0, 1, 1], [0, 0]], ["input", C3, "output"], "must be square"),
    ],
)
def test_invalid_specs_name_the_broken_rule(matrix, ops, message):
    with pytest.raises(ArchError, match=message):
        make_cell(matrix, ops)


def test_too_many_edges_and_vertices_are_rejected():
    full7 = np.triu(np.ones((7, 7), dtype=int), 1)
    with pytest.raises(ArchError, match="21 edges after pruning, at most 9"):
        make_cell(full7.tolist(), ["input"] + [C3] * 5 + ["output"])
    chain8 = np.eye(8, k=1, dtype=int)
    with pytest.raises(ArchError, match="8 vertices after pruning, at most 7"):
        make_cell(chain8.tolist(), ["input"] + [C3] * 6 + ["output"])


def test_module_hash_is_wl_hash_with_official_labels_and_isomorphism_invariant():
    cell = make_cell(*INCEPTION)
    assert labels(cell.ops) == [-1, 1, 0, 0, 0, 2, -2]
    assert module_hash(cell) == wl_hash(np.array(cell.matrix), [-1, 1, 0, 0, 0, 2, -2])
    # swap vertices 1 and 2 (both only feed the output): same cell, same hash
    m = np.array(cell.matrix)
    perm = [0, 2, 1, 3, 4, 5, 6]
    swapped = make_cell(m[np.ix_(perm, perm)].tolist(), [cell.ops[i] for i in perm])
    assert swapped != cell and module_hash(swapped) == module_hash(cell)
    # a different op changes the hash
    other = make_cell(INCEPTION[0], ["input", C3, C3, C3, C3, MP, "output"])
    assert module_hash(other) != module_hash(cell)


def test_json_round_trip_and_encoding_round_trip():
    cell = make_cell(*INCEPTION)
    assert cell_from_json(cell_to_json(cell)) == cell
    assert decode(*encode(cell)) == cell
    with pytest.raises(ArchError, match="keys 'matrix' and 'ops'"):
        cell_from_json('{"matrix": [[0, 1], [0, 0]]}')
    with pytest.raises(ArchError, match="must be JSON"):
        cell_from_json("{matrix")


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_vectorised_enumeration_equals_the_official_generator(n):
    """Every labelled full DAG of n vertices, hashed one by one as generate_graphs.py does."""
    bits = full_dag_bits(n)
    brute_bits = [
        b
        for b in range(1 << (n * (n - 1) // 2))
        if bin(b).count("1") <= 9 and _is_full_dag(adjacency_of_bits(np.array([b]), n)[0])
    ]
    assert bits.tolist() == brute_bits
    first: dict[str, tuple[int, int]] = {}
    adj = adjacency_of_bits(bits, n)
    for m, b in enumerate(bits.tolist()):
        for code, lab in enumerate(itertools.product(range(3), repeat=n - 2)):
            h = wl_hash(adj[m].astype(np.int8), [-1, *lab, -2])
            first.setdefault(h, (b, code))
    assert op_labels(n)[:, 1:-1].tolist() == [list(p) for p in itertools.product(range(3), repeat=n - 2)]
    hexes, rep_bits, rep_codes, class_of = _hash_vertex_count(n, seed=123)
    got = {bytes(h).decode(): (int(b), int(c)) for h, b, c in zip(hexes, rep_bits, rep_codes)}
    assert got == first
    # every labelled graph points at the position of its own hash
    for m, _ in enumerate(bits.tolist()[:40]):
        for code, lab in enumerate(itertools.product(range(3), repeat=n - 2)):
            pos = class_of[m * 3 ** (n - 2) + code]
            assert bytes(hexes[pos]).decode() == wl_hash(adj[m].astype(np.int8), [-1, *lab, -2])


def _is_full_dag(matrix: np.ndarray) -> bool:
    return bool(matrix[:-1].any(axis=1).all() and matrix[:, 1:].any(axis=0).all())


def test_canonical_graphs_count_the_isomorphism_classes():
    # the unique-hash counts per vertex count of the official enumeration
    assert [len(canonical_graphs(n)[0]) for n in range(2, 8)] == [1, 6, 84, 2441, 62010, 359082]


def test_md5_split_over_processes_and_chunks_gives_the_same_hashes(monkeypatch):
    from nasearch.search_spaces.nasbench101 import enumerate as enum_module

    monkeypatch.setattr(_Hasher, "MIN_ROWS_TO_SPLIT", 0)
    monkeypatch.setattr(enum_module, "_CHUNK", 97)
    hasher = _Hasher(2)
    try:
        split = _hash_vertex_count(5, seed=7, hasher=hasher)
    finally:
        hasher.close()
    single = _hash_vertex_count(5, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(split, single))


def test_quick_cell_agrees_with_make_cell_on_random_specs():
    from nasearch.search_spaces.nasbench101.spec import quick_cell

    rng = np.random.default_rng(0)
    valid = 0
    for _ in range(3000):
        n = int(rng.integers(2, 9))
        m = np.triu(rng.integers(0, 2, size=(n, n)), 1).tolist()
        ops = ["input", *(OPS[k] for k in rng.integers(0, 3, size=n - 2).tolist()), "output"]
        try:
            expected = make_cell(m, ops)
        except ArchError:
            expected = None
        assert quick_cell(m, ops) == expected
        valid += expected is not None
    assert 300 < valid < 2700  # both outcomes are exercised
