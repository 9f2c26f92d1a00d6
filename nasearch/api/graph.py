"""ArchGraph: the one data type that flows from search spaces into predictors.

A cell is a DAG with operations on the nodes, in topological order: node 0 is the input, the last
node the output, and ``adjacency[i, j] == 1`` means an edge i -> j (so the matrix is strictly upper
triangular). Optional per-node ``attrs`` carry numbers such as kernel size or channels that
language templates and custom spaces need. ``key`` is equal for isomorphic cells.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from nasearch.api.errors import ArchError


def wl_hash(adjacency: np.ndarray, labels: Sequence[object]) -> str:
    """Isomorphism-invariant MD5 fingerprint of a labelled DAG.

    This is the iterated-neighbourhood hash of NAS-Bench-101 (``graph_util.hash_module``): every
    vertex starts from ``md5(str((out_degree, in_degree, label)))`` and is refined ``n`` times by
    the sorted hashes of its in- and out-neighbours. With NAS-Bench-101's integer labelling it
    reproduces the official module hash exactly.
    """
    matrix = np.asarray(adjacency)
    n = matrix.shape[0]
    in_edges = matrix.sum(axis=0).tolist()
    out_edges = matrix.sum(axis=1).tolist()
    hashes = [
        hashlib.md5(str((out_edges[v], in_edges[v], labels[v])).encode("utf-8")).hexdigest() for v in range(n)
    ]
    preds = [np.flatnonzero(matrix[:, v]).tolist() for v in range(n)]
    succs = [np.flatnonzero(matrix[v, :]).tolist() for v in range(n)]
    for _ in range(n):
        hashes = [
            hashlib.md5(
                (
                    "".join(sorted(hashes[w] for w in preds[v]))
                    + "|"
                    + "".join(sorted(hashes[w] for w in succs[v]))
                    + "|"
                    + hashes[v]
                ).encode("utf-8")
            ).hexdigest()
            for v in range(n)
        ]
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()


class ArchGraph:
    """An immutable cell DAG: ``ops`` in topological order plus a 0/1 ``adjacency`` matrix."""

    __slots__ = ("ops", "adjacency", "attrs", "__dict__")
    ops: tuple[str, ...]
    adjacency: np.ndarray
    attrs: tuple[dict[str, Any], ...] | None

    def __init__(
        self,
        ops: Sequence[str],
        adjacency: ArrayLike,
        attrs: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        ops_t = tuple(str(op) for op in ops)
        matrix = np.array(adjacency, dtype=np.int8, copy=True)
        n = len(ops_t)
        if n < 2:
            raise ArchError(f"an ArchGraph needs at least an input and an output node, got ops={ops_t}")
        if matrix.shape != (n, n):
            raise ArchError(f"adjacency must be {n}x{n} to match {n} ops, got shape {matrix.shape}")
        if not np.isin(matrix, (0, 1)).all():
            raise ArchError("adjacency must hold only 0 and 1")
        if np.tril(matrix).any():
            raise ArchError(
                "adjacency must be strictly upper triangular (nodes in topological order, no self-loops)"
            )
        matrix.setflags(write=False)
        attrs_t: tuple[dict[str, Any], ...] | None = None
        if attrs is not None:
            if len(attrs) != n:
                raise ArchError(f"attrs has {len(attrs)} entries for {n} nodes")
            attrs_t = tuple(dict(a) for a in attrs)
        object.__setattr__(self, "ops", ops_t)
        object.__setattr__(self, "adjacency", matrix)
        object.__setattr__(self, "attrs", attrs_t)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ArchGraph is immutable")

    def __reduce__(self) -> tuple[object, ...]:
        # rebuild through __init__ (pickling for Ray and process pools; immutability kept)
        attrs = None if self.attrs is None else [dict(a) for a in self.attrs]
        return (ArchGraph, (self.ops, self.adjacency.copy(), attrs))

    @property
    def n_nodes(self) -> int:
        """Number of nodes, input and output included."""
        return len(self.ops)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.adjacency.sum())

    def predecessors(self, node: int) -> list[int]:
        """Nodes with an edge into ``node``."""
        return [int(i) for i in np.flatnonzero(self.adjacency[:, node])]

    def successors(self, node: int) -> list[int]:
        """Nodes that ``node`` has an edge into."""
        return [int(i) for i in np.flatnonzero(self.adjacency[node, :])]

    def node_label(self, node: int) -> str:
        """The op plus its sorted attributes: what makes two nodes interchangeable."""
        if not self.attrs or not self.attrs[node]:
            return self.ops[node]
        return self.ops[node] + json.dumps(self.attrs[node], sort_keys=True, default=str)

    @cached_property
    def key(self) -> str:
        """A hex fingerprint equal for isomorphic cells (same labelled DAG up to node order)."""
        return wl_hash(self.adjacency, [self.node_label(v) for v in range(self.n_nodes)])

    def prune(self) -> ArchGraph:
        """Drop nodes that lie on no input -> output path (keeps input and output)."""
        keep = self._on_path_mask()
        keep[0] = keep[-1] = True
        return self.subgraph(np.flatnonzero(keep).tolist())

    def subgraph(self, nodes: Sequence[int]) -> ArchGraph:
        """The graph induced by ``nodes`` (kept in the given, topological, order)."""
        idx = list(nodes)
        attrs = None if self.attrs is None else [self.attrs[i] for i in idx]
        return ArchGraph([self.ops[i] for i in idx], self.adjacency[np.ix_(idx, idx)], attrs)

    def _on_path_mask(self) -> np.ndarray:
        n = self.n_nodes
        from_input = np.zeros(n, dtype=bool)
        from_input[0] = True
        for v in range(n):
            if from_input[v]:
                from_input[self.adjacency[v].astype(bool)] = True
        to_output = np.zeros(n, dtype=bool)
        to_output[-1] = True
        for v in range(n - 1, -1, -1):
            if to_output[v]:
                to_output[self.adjacency[:, v].astype(bool)] = True
        return from_input & to_output

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (``from_dict`` reverses it)."""
        out: dict[str, object] = {"ops": list(self.ops), "adjacency": self.adjacency.tolist()}
        if self.attrs is not None:
            out["attrs"] = [dict(a) for a in self.attrs]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArchGraph:
        """Build from ``{"ops": [...], "adjacency": [[...]], "attrs": [...]?}``."""
        try:
            return cls(data["ops"], data["adjacency"], data.get("attrs"))
        except KeyError as exc:
            raise ArchError(f"an ArchGraph dict needs the key {exc.args[0]!r}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArchGraph):
            return NotImplemented
        return (
            self.ops == other.ops
            and np.array_equal(self.adjacency, other.adjacency)
            and self.attrs == other.attrs
        )

    def __hash__(self) -> int:
        return hash((self.ops, self.adjacency.tobytes()))

    def __repr__(self) -> str:
        edges = [(int(i), int(j)) for i, j in zip(*np.nonzero(self.adjacency))]
        return f"ArchGraph(ops={list(self.ops)}, edges={edges})"
