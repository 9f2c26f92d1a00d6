"""Enumerate every NAS-Bench-101 cell and its official module hash, vectorised with numpy.

The official generator (``generate_graphs.py``) walks, for 2..7 vertices, every edge bit pattern
(``gen_is_edge_fn``) that is a full DAG with at most 9 edges, and every labelling of the interior
vertices with the 3 ops: 1,293,208 labelled graphs, 423,624 unique hashes. It keeps, per hash,
the first graph it meets; so do we.

Computing ``hash_module`` graph by graph takes minutes in Python. Here all graphs of one vertex
count advance one refinement step at a time: a vertex's next hash is the MD5 of its sorted in-
and out-neighbour hashes and its own, so equal (in-multiset, out-multiset, own) signatures give
equal hashes. Signatures are grouped with two independent 64-bit multiset fingerprints (random
keys summed over neighbours; a disagreement between the two is detected and retried with new
keys), and MD5 runs only once per distinct signature, on the exact bytes the official code
hashes. The result is bit-identical to ``graph_util.hash_module`` (tests compare it with
``nasearch.graph.wl_hash``; ``benchmarks/bench_nasbench101.py`` proves the full index).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from operator import methodcaller

try:  # CPython's own MD5 is about twice as fast as OpenSSL's on short inputs
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import md5 as _md5

import numpy as np

from search_spaces.nasbench101.spec import MAX_EDGES, MAX_VERTICES, pair_bit

_digest = methodcaller("digest")
#: byte -> its two hex digits, as one native uint16 (viewed back as two ASCII bytes)
_HEX_PAIRS = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), dtype=np.uint16)


@dataclass(frozen=True)
class Enumeration:
    """Every unique cell, sorted by module hash: hex hash, vertex count, edge bits, op code."""

    hashes: np.ndarray  # S32, ascending
    n_vertices: np.ndarray  # uint8
    bits: np.ndarray  # uint32, edge bits as in spec.encode
    op_codes: np.ndarray  # uint16, interior ops in base 3
    n_graphs: int  # labelled graphs enumerated (duplicates included)


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


def _md5_rows(buf: np.ndarray) -> np.ndarray:
    """MD5 digest of each row of a ``(k, width)`` uint8 array, as ``(k, 16)`` uint8."""
    k, width = buf.shape
    if k == 0:
        return np.empty((0, 16), dtype=np.uint8)
    flat = np.ascontiguousarray(buf).tobytes()
    rows = [flat[i : i + width] for i in range(0, k * width, width)]
    joined = b"".join(map(_digest, map(_md5, rows)))
    return np.frombuffer(joined, dtype=np.uint8).reshape(k, 16)


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


def canonical_graphs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """One labelled graph per isomorphism class of ``n``-vertex cells: the first in generator order.

    Returns ``(matrix number, op code)`` of each, in generator order. Two labelled full DAGs are
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
    own = np.arange(best.size).reshape(best.shape)
    keep = np.flatnonzero(best == own)
    return keep // l_count, keep % l_count


def _hash_vertex_count(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Module hashes of every ``n``-vertex cell, one canonical graph per isomorphism class.

    Returns the unique hashes (``(k, 32)`` ASCII hex), and for each the edge bits and op code of
    the first graph (in generator order) that has it. Arrays are vertex-major: ``ids[v, g]`` is
    the current hash id of vertex ``v`` of graph ``g``.
    """
    rng = np.random.default_rng(seed)
    bits = full_dag_bits(n)
    adj_m = adjacency_of_bits(bits, n)  # (M, n, n)
    g_m, g_code = canonical_graphs(n)
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
            sel = np.flatnonzero(degrees == pair)
            s = len(sel)
            parts = [
                hex_table[in_sorted[sel, :a]].reshape(s, 32 * a),
                np.broadcast_to(bar, (s, 1)),
                hex_table[out_sorted[sel, :b]].reshape(s, 32 * b),
                np.broadcast_to(bar, (s, 1)),
                hex_table[own[sel]],
            ]
            new_digests[sel] = _md5_rows(np.concatenate(parts, axis=1))
        rank, hex_table = _rank_digests(new_digests)
        ids = rank[codes].reshape(n, graphs)
        del codes

    # fingerprint: md5(str(sorted(hashes))) = md5(b"['h0', 'h1', ...]")
    rep = np.sort(ids.T, axis=1)
    s = graphs

    def const(text: bytes) -> np.ndarray:
        row = np.frombuffer(text, dtype=np.uint8)[None]
        return np.broadcast_to(row, (s, row.shape[1]))

    parts = [const(b"['")]
    for i in range(n):
        parts += [hex_table[rep[:, i]], const(b"', '" if i < n - 1 else b"']")]
    fingerprints = _hexify(_md5_rows(np.concatenate(parts, axis=1)))
    return fingerprints, bits[g_m], g_code


def enumerate_cells(max_vertices: int = MAX_VERTICES, seed: int = 0) -> Enumeration:
    """Every unique NB101 cell with its official module hash, sorted by hash (a few seconds)."""
    all_hex, all_n, all_bits, all_codes = [], [], [], []
    n_graphs = 0
    for n in range(2, max_vertices + 1):
        for attempt in range(5):
            try:
                fingerprints, bits, codes = _hash_vertex_count(n, seed + 1000 * attempt + n)
                break
            except _Collision:
                continue
        else:  # pragma: no cover - five independent 128-bit collisions
            raise RuntimeError("NB101 enumeration: fingerprint collisions on five seeds")
        n_graphs += len(full_dag_bits(n)) * 3 ** (n - 2)
        all_hex.append(fingerprints)
        all_n.append(np.full(len(bits), n, dtype=np.uint8))
        all_bits.append(bits.astype(np.uint32))
        all_codes.append(codes.astype(np.uint16))
    hexes = np.ascontiguousarray(np.concatenate(all_hex)).view("S32").ravel()
    n_v, bits, codes = np.concatenate(all_n), np.concatenate(all_bits), np.concatenate(all_codes)
    # generator order is (n, bits, code); keep the first graph of each hash, then sort by hash
    _, first = np.unique(hexes, return_index=True)
    return Enumeration(hexes[first], n_v[first], bits[first], codes[first], n_graphs)
