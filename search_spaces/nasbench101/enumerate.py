"""Enumerate every NAS-Bench-101 cell and its official module hash, vectorised with numpy.

The official generator (``generate_graphs.py``) walks, for 2..7 vertices, every edge bit pattern
(``gen_is_edge_fn``) that is a full DAG with at most 9 edges, and every labelling of the interior
vertices with the 3 ops: 1,293,208 labelled graphs, 423,624 unique hashes. It keeps, per hash,
the first graph it meets; so do we.

Computing ``hash_module`` graph by graph takes minutes in Python. Here, first, isomorphic
labelled graphs (which share their hash) are folded onto the first of them by trying every
permutation of the interior vertices on every matrix (:func:`canonical_graphs`): 423,624 graphs
remain. Then all graphs of one vertex count advance one refinement step at a time: a vertex's
next hash is the MD5 of its sorted in- and out-neighbour hashes and its own, so equal
(in-multiset, out-multiset, own) signatures give equal hashes. Signatures are grouped with two
independent 64-bit multiset fingerprints (random keys summed over neighbours; a disagreement
between the two is detected and retried with new keys), and MD5 runs once per distinct
signature, on the exact bytes the official code hashes, split over the available cores. The
result is bit-identical to ``graph_util.hash_module`` (tests compare it with the one-by-one
``nasearch.api.graph.wl_hash``; ``benchmarks/bench_nasbench101.py`` proves the full index).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from operator import methodcaller

try:  # CPython's own MD5 is about twice as fast as OpenSSL's on short inputs
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import md5 as _md5

import numpy as np

from nasearch.search_spaces.nasbench101.spec import MAX_EDGES, MAX_VERTICES, pair_bit

_digest = methodcaller("digest")
#: rows hashed per batch (bounds the memory of the byte buffers)
_CHUNK = 1 << 17
#: byte -> its two hex digits, as one native uint16 (viewed back as two ASCII bytes)
_HEX_PAIRS = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), dtype=np.uint16)


@dataclass(frozen=True)
class Enumeration:
    """Every unique cell, sorted by module hash: hex hash, vertex count, edge bits, op code."""

    hashes: np.ndarray  # S32, ascending
    n_vertices: np.ndarray  # uint8
    bits: np.ndarray  # uint32, edge bits as in spec.encode
    op_codes: np.ndarray  # uint16, interior ops in base 3
    matrix_n: np.ndarray  # uint8, vertex count of every full-DAG matrix, generator order
    matrix_bits: np.ndarray  # uint32, its edge bits
    graph_rows: np.ndarray  # int32, row of every labelled graph (matrix-major, then op code)

    @property
    def n_graphs(self) -> int:
        """Labelled graphs enumerated (isomorphic duplicates included)."""
        return len(self.graph_rows)


def full_dag_bits(n: int, max_edges: int = MAX_EDGES) -> np.ndarray:
    """Edge bit patterns of ``n`` vertices that are full DAGs with at most ``max_edges`` edges, ascending."""
    pairs = n * (n - 1) // 2
    bits = np.arange(1 << pairs, dtype=np.int64)
    bits = bits[np.bitwise_count(bits) <= max_edges]
    ok = np.ones(len(bits), dtype=bool)
    for x in range(n - 1):  # every vertex but the output has an out-edge
        ok &= (bits & sum(1 << pair_bit(x, y) for y in range(x + 1, n))) != 0
    for y in range(1, n):  # every vertex but the input has an in-edge
        ok &= (bits & sum(1 << pair_bit(x, y) for x in range(y))) != 0
    return bits[ok]


def adjacency_of_bits(bits: np.ndarray, n: int) -> np.ndarray:
    """``(len(bits), n, n)`` bool adjacency matrices of edge bit patterns."""
    shift = np.zeros((n, n), dtype=np.int64)
    upper = np.zeros((n, n), dtype=bool)
    for x in range(n):
        for y in range(x + 1, n):
            shift[x, y] = pair_bit(x, y)
            upper[x, y] = True
    return (((bits[:, None, None] >> shift[None]) & 1) == 1) & upper[None]


def op_labels(n: int) -> np.ndarray:
    """``(3**(n-2), n)`` hash labels: -1 input, op index, -2 output; rows in ``itertools.product`` order."""
    count = 3 ** (n - 2)
    codes = np.arange(count)
    out = np.empty((count, n), dtype=np.int64)
    out[:, 0], out[:, -1] = -1, -2
    for i in range(1, n - 1):
        out[:, i] = (codes // 3 ** (n - 2 - i)) % 3
    return out


def _hexify(digests: np.ndarray) -> np.ndarray:
    """``(k, 16)`` digest bytes -> ``(k, 32)`` lowercase ASCII hex."""
    return _HEX_PAIRS[digests].view(np.uint8).reshape(len(digests), 32)


def _md5_bytes(flat: bytes, width: int) -> bytes:
    """Concatenated MD5 digests of the consecutive ``width``-byte rows of ``flat``."""
    rows = [flat[i : i + width] for i in range(0, len(flat), width)]
    return b"".join(map(_digest, map(_md5, rows)))


class _Hasher:
    """MD5 of many fixed-width rows, split over ``workers`` processes (forked helpers) when it pays."""

    MIN_ROWS_TO_SPLIT = 50_000

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.pool: ProcessPoolExecutor | None = None
        if self.workers > 1 and "fork" in mp.get_all_start_methods():
            self.pool = ProcessPoolExecutor(self.workers - 1, mp_context=mp.get_context("fork"))

    def rows(self, buf: np.ndarray) -> np.ndarray:
        """MD5 digest of each row of a ``(k, width)`` uint8 array, as ``(k, 16)`` uint8."""
        k, width = buf.shape
        flat = np.ascontiguousarray(buf).tobytes()
        if self.pool is None or k < self.MIN_ROWS_TO_SPLIT:
            out = _md5_bytes(flat, width)
        else:
            share = k // self.workers
            cuts = [i * share * width for i in range(self.workers)] + [len(flat)]
            pieces = [flat[cuts[i] : cuts[i + 1]] for i in range(self.workers - 1)]
            futures = [self.pool.submit(_md5_bytes, piece, width) for piece in pieces]
            local = _md5_bytes(flat[cuts[-2] :], width)  # this process takes the last share
            out = b"".join(f.result() for f in futures) + local
        return np.frombuffer(out, dtype=np.uint8).reshape(k, 16)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def default_workers() -> int:
    """The CPU cores this process may use (at most 4: beyond that the MD5 share is small)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def _rank_digests(digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of digests in hex order (equal digests share a rank) and the sorted unique hex table."""
    words = digests.view(">u8")
    order = np.argsort(words[:, 0])
    sw = words[order]
    if (sw[1:, 0] == sw[:-1, 0]).any():  # a tie of the first 8 bytes: order on all 16
        order = np.lexsort((words[:, 1], words[:, 0]))
        sw = words[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (sw[1:] != sw[:-1]).any(axis=1)
    ranks = np.empty(len(order), dtype=np.int32)
    ranks[order] = np.cumsum(new) - 1
    return ranks, _hexify(digests[order[new]])


def _first_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal ``keys``: a code per element (in first-appearance order) and each code's first index."""
    import pandas as pd

    codes, _ = pd.factorize(keys, sort=False)
    running = np.maximum.accumulate(codes)
    new = np.ones(len(codes), dtype=bool)
    new[1:] = codes[1:] > running[:-1]
    return codes, np.flatnonzero(new)


class _Collision(Exception):
    """Two different signatures met the same 64-bit fingerprint: retry with other random keys."""


def _random_keys(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=size, dtype=np.uint64, endpoint=True)


def _signatures(ids: np.ndarray, edges: list[tuple[int, int, np.ndarray]], keys: np.ndarray) -> np.ndarray:
    """64-bit fingerprint of (in-neighbour multiset, out-neighbour multiset, own id) per vertex."""
    sig = keys[2][ids]
    z_in, z_out = keys[0][ids], keys[1][ids]
    for w, v, mask in edges:
        sig[v] += z_in[w] * mask  # w is an in-neighbour of v
        sig[w] += z_out[v] * mask  # v is an out-neighbour of w
    return sig.ravel()


def canonical_graphs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One labelled graph per isomorphism class of ``n``-vertex cells: the first in generator order.

    Returns ``(matrix number, op code)`` of each, in generator order, and for every labelled
    graph (matrix-major, then op code) the position of its class in that list. Two labelled full DAGs are
    isomorphic when a permutation of the interior vertices maps one onto the other, and the
    image of an upper-triangular matrix is in the enumeration only when it stays upper
    triangular; so trying the ``(n-2)!`` permutations on every matrix finds every isomorphic
    pair. Isomorphic cells share their module hash, so hashing these alone gives every hash.
    """
    bits = full_dag_bits(n)
    adj = adjacency_of_bits(bits, n)
    l_count = 3 ** (n - 2)
    best = np.arange(len(bits) * l_count, dtype=np.int64).reshape(len(bits), l_count)
    codes = np.arange(l_count)
    digits = [(codes // 3 ** (n - 2 - i)) % 3 for i in range(1, n - 1)]  # digit of vertex i
    pairs = [(x, y) for x in range(n) for y in range(x + 1, n)]
    edge_of = np.stack([adj[:, x, y] for x, y in pairs], axis=1)  # (M, P)
    for perm in itertools.permutations(range(1, n - 1)):
        if perm == tuple(range(1, n - 1)):
            continue
        pos = (0, *perm, n - 1)  # vertex x goes to position pos[x]
        ok = np.ones(len(bits), dtype=bool)
        new_bits = np.zeros(len(bits), dtype=np.int64)
        for k, (x, y) in enumerate(pairs):
            if pos[x] > pos[y]:
                ok &= ~edge_of[:, k]
            else:
                new_bits |= edge_of[:, k].astype(np.int64) << pair_bit(pos[x], pos[y])
        if not ok.any():
            continue
        m_src = np.flatnonzero(ok)
        m_dst = np.searchsorted(bits, new_bits[m_src])
        new_code = sum(digits[x - 1] * 3 ** (n - 2 - pos[x]) for x in range(1, n - 1))
        candidate = m_dst[:, None] * l_count + new_code[None, :]
        np.minimum(best[m_src], candidate, out=candidate)
        best[m_src] = candidate
    flat = best.ravel()
    keep = np.flatnonzero(flat == np.arange(flat.size))
    return keep // l_count, keep % l_count, np.searchsorted(keep, flat)


def _hash_vertex_count(
    n: int, seed: int, hasher: _Hasher | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Module hashes of every ``n``-vertex cell, one canonical graph per isomorphism class.

    Returns the unique hashes (``(k, 32)`` ASCII hex), for each the edge bits and op code of the
    first graph (in generator order) that has it, and for every labelled graph the position of
    its hash in the returned list. Arrays are vertex-major: ``ids[v, g]`` is
    the current hash id of vertex ``v`` of graph ``g``.
    """
    hasher = hasher or _Hasher(1)
    rng = np.random.default_rng(seed)
    bits = full_dag_bits(n)
    adj_m = adjacency_of_bits(bits, n)  # (M, n, n)
    g_m, g_code, class_of = canonical_graphs(n)
    graphs = len(g_m)
    adj = adj_m[g_m]  # (G, n, n)
    labs = op_labels(n)[g_code]  # (G, n)
    in_deg = adj.sum(axis=1).T  # (n, G)
    out_deg = adj.sum(axis=2).T

    # level 0: md5(str((out_degree, in_degree, label)))
    triple = (out_deg * 8 + in_deg) * 8 + (labs.T + 2)
    uniq, inverse = np.unique(triple, return_inverse=True)
    text = [str((int(t) // 64, (int(t) // 8) % 8, int(t) % 8 - 2)).encode() for t in uniq]
    digests = np.frombuffer(b"".join(_md5(t).digest() for t in text), dtype=np.uint8).reshape(-1, 16)
    rank, hex_table = _rank_digests(digests)
    ids = rank[inverse.reshape(triple.shape)]  # (n, G)
    del triple, inverse

    edges = [(w, v, adj[:, w, v].astype(np.uint64)) for w in range(n) for v in range(w + 1, n)]
    edges = [(w, v, mask) for w, v, mask in edges if mask.any()]
    bar = np.full((1, 1), ord("|"), dtype=np.uint8)
    big = np.iinfo(np.int32).max
    for _ in range(n):
        keys = _random_keys(rng, (2, 3, len(hex_table)))
        codes, first = _first_codes(_signatures(ids, edges, keys[0]))
        check = _signatures(ids, edges, keys[1])
        if not np.array_equal(check, check[first][codes]):
            raise _Collision
        del check
        # one representative (vertex, graph) per signature: build the exact bytes MD5 sees
        v, g = np.divmod(first, graphs)
        rep_ids = ids[:, g].T  # (S, n) ids of the representative's vertices
        preds = adj[g, :, v]  # (S, n)
        succs = adj[g, v, :]
        in_sorted = np.sort(np.where(preds, rep_ids, big), axis=1)
        out_sorted = np.sort(np.where(succs, rep_ids, big), axis=1)
        degrees = preds.sum(axis=1) * 16 + succs.sum(axis=1)
        own = rep_ids[np.arange(len(v)), v]
        new_digests = np.empty((len(first), 16), dtype=np.uint8)
        for pair in np.unique(degrees).tolist():
            a, b = divmod(pair, 16)
            group = np.flatnonzero(degrees == pair)
            for lo in range(0, len(group), _CHUNK):  # bounded memory: the bytes of one chunk at a time
                sel = group[lo : lo + _CHUNK]
                s = len(sel)
                parts = [
                    hex_table[in_sorted[sel, :a]].reshape(s, 32 * a),
                    np.broadcast_to(bar, (s, 1)),
                    hex_table[out_sorted[sel, :b]].reshape(s, 32 * b),
                    np.broadcast_to(bar, (s, 1)),
                    hex_table[own[sel]],
                ]
                new_digests[sel] = hasher.rows(np.concatenate(parts, axis=1))
        rank, hex_table = _rank_digests(new_digests)
        ids = rank[codes].reshape(n, graphs)
        del codes

    # fingerprint: md5(str(sorted(hashes))) = md5(b"['h0', 'h1', ...]")
    rep = np.sort(ids.T, axis=1)
    s = graphs

    def const(text: bytes) -> np.ndarray:
        row = np.frombuffer(text, dtype=np.uint8)[None]
        return np.broadcast_to(row, (s, row.shape[1]))

    digests = np.empty((s, 16), dtype=np.uint8)
    for lo in range(0, s, _CHUNK):
        part = rep[lo : lo + _CHUNK]
        k = len(part)
        parts = [const(b"['")[:k]]
        for i in range(n):
            parts += [hex_table[part[:, i]], const(b"', '" if i < n - 1 else b"']")[:k]]
        digests[lo : lo + k] = hasher.rows(np.concatenate(parts, axis=1))
    fingerprints = _hexify(digests)
    return fingerprints, bits[g_m], g_code, class_of


def enumerate_cells(
    max_vertices: int = MAX_VERTICES,
    seed: int = 0,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Enumeration:
    """Every unique NB101 cell with its official module hash, sorted by hash.

    ``workers``: processes for the MD5 work (default: the usable cores, at most 4).
    ``on_progress``: called with the number of labelled graphs done after each vertex count.
    """
    all_hex, all_n, all_bits, all_codes, all_class = [], [], [], [], []
    matrix_n, matrix_bits = [], []
    offset = 0
    hasher = _Hasher(default_workers() if workers is None else workers)
    try:
        for n in range(2, max_vertices + 1):
            for attempt in range(5):
                try:
                    result = _hash_vertex_count(n, seed + 1000 * attempt + n, hasher)
                    break
                except _Collision:
                    continue
            else:  # pragma: no cover - five independent 128-bit collisions
                raise RuntimeError("NB101 enumeration: fingerprint collisions on five seeds")
            fingerprints, bits, codes, class_of = result
            all_hex.append(fingerprints)
            all_n.append(np.full(len(bits), n, dtype=np.uint8))
            all_bits.append(bits.astype(np.uint32))
            all_codes.append(codes.astype(np.uint16))
            all_class.append(class_of + offset)
            offset += len(bits)
            dag_bits = full_dag_bits(n)
            matrix_n.append(np.full(len(dag_bits), n, dtype=np.uint8))
            matrix_bits.append(dag_bits.astype(np.uint32))
            if on_progress is not None:
                on_progress(len(dag_bits) * 3 ** (n - 2))
    finally:
        hasher.close()
    hexes = np.ascontiguousarray(np.concatenate(all_hex)).view("S32").ravel()
    n_v, bits, codes = np.concatenate(all_n), np.concatenate(all_bits), np.concatenate(all_codes)
    # generator order is (n, bits, code); keep the first graph of each hash, then sort by hash
    _, first, row_of = np.unique(hexes, return_index=True, return_inverse=True)
    graph_rows = row_of.astype(np.int32)[np.concatenate(all_class)]
    return Enumeration(
        hexes[first],
        n_v[first],
        bits[first],
        codes[first],
        np.concatenate(matrix_n),
        np.concatenate(matrix_bits),
        graph_rows,
    )
