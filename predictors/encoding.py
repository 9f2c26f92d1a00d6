"""ArchGraphs -> tensors: op vocabularies, one-hot ops, padded adjacency with masks, batching.

``OpVocab`` maps op names to ids (id 0 is ``<unk>``, for ops never seen in training).
``EncodedGraphs`` holds a set of graphs as padded arrays and is a ``training.BatchSource``: its
``batches`` yields ``GraphBatch``es either grouped by node count (no padding inside a batch, the
NN-Former recipe) or padded to the largest graph of the batch with a node ``mask``.
``flat_encoding`` is the classic fixed-length vector (upper-triangular adjacency + one-hot ops)
the MLP and tree baselines use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import torch

from nasearch.api.errors import ArchError
from nasearch.api.graph import ArchGraph

UNKNOWN = "<unk>"


class OpVocab:
    """Op name <-> integer id; id 0 is reserved for ops not seen when the vocabulary was built."""

    def __init__(self, ops: Iterable[str]) -> None:
        names = [UNKNOWN]
        for op in ops:
            if op not in names:
                names.append(str(op))
        self.names: tuple[str, ...] = tuple(names)
        self._ids = {op: i for i, op in enumerate(self.names)}

    @classmethod
    def from_graphs(cls, graphs: Iterable[ArchGraph], extra: Iterable[str] = ()) -> OpVocab:
        """Every op of ``graphs`` (sorted, so equal sets give equal vocabularies) plus ``extra``."""
        ops = {op for g in graphs for op in g.ops} | set(extra)
        return cls(sorted(ops))

    def __len__(self) -> int:
        return len(self.names)

    def ids(self, ops: Sequence[str]) -> list[int]:
        """Ids of ``ops``; unknown ops map to 0."""
        return [self._ids.get(op, 0) for op in ops]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpVocab) and self.names == other.names

    def __repr__(self) -> str:
        return f"OpVocab({list(self.names[1:])})"


@dataclasses.dataclass
class GraphBatch:
    """A batch of B graphs padded to N nodes.

    ``ops``: (B, N) long op ids (0 at padding); ``onehot``: (B, N, V) float; ``adjacency``:
    (B, N, N) float, ``A[b, i, j] = 1`` for an edge i -> j; ``mask``: (B, N) bool, True on real
    nodes; ``n_nodes``: (B,) long. Graphs keep their node order (topological), so the output
    node of graph b is at ``n_nodes[b] - 1``.
    """

    ops: torch.Tensor
    onehot: torch.Tensor
    adjacency: torch.Tensor
    mask: torch.Tensor
    n_nodes: torch.Tensor

    def __len__(self) -> int:
        return int(self.ops.shape[0])


class EncodedGraphs:
    """Graphs as padded arrays, batched for training and prediction (a ``BatchSource``)."""

    def __init__(
        self,
        graphs: Sequence[ArchGraph],
        vocab: OpVocab,
        group_by_size: bool = True,
        max_nodes: int | None = None,
    ) -> None:
        if not graphs:
            raise ArchError("EncodedGraphs needs at least one graph")
        self.vocab = vocab
        self.group_by_size = bool(group_by_size)
        sizes = np.array([g.n_nodes for g in graphs], dtype=np.int64)
        width = int(sizes.max()) if max_nodes is None else int(max_nodes)
        if sizes.max() > width:
            raise ArchError(f"a graph has {int(sizes.max())} nodes, more than max_nodes={width}")
        self.n_nodes = sizes
        self.op_ids = np.zeros((len(graphs), width), dtype=np.int64)
        self.adjacency = np.zeros((len(graphs), width, width), dtype=np.float32)
        for i, g in enumerate(graphs):
            n = g.n_nodes
            self.op_ids[i, :n] = vocab.ids(g.ops)
            self.adjacency[i, :n, :n] = g.adjacency
        self._groups = {int(n): np.flatnonzero(sizes == n) for n in np.unique(sizes)}

    def __len__(self) -> int:
        return int(self.n_nodes.size)

    def batch(self, positions: np.ndarray) -> GraphBatch:
        """The graphs at ``positions`` as one batch, padded to the largest of them."""
        pos = np.asarray(positions, dtype=np.int64)
        width = int(self.n_nodes[pos].max())
        ops = torch.from_numpy(self.op_ids[pos, :width])
        n = torch.from_numpy(self.n_nodes[pos])
        mask = torch.arange(width).unsqueeze(0) < n.unsqueeze(1)
        onehot = torch.nn.functional.one_hot(ops, len(self.vocab)).float() * mask.unsqueeze(-1)
        adj = torch.from_numpy(self.adjacency[pos, :width, :width])
        return GraphBatch(ops=ops, onehot=onehot, adjacency=adj, mask=mask, n_nodes=n)

    def batches(
        self, indices: np.ndarray, batch_size: int, rng: np.random.Generator | None
    ) -> Iterator[tuple[GraphBatch, np.ndarray]]:
        """Batches over ``indices``: shuffled when ``rng`` is given, grouped by size if configured."""
        idx = np.asarray(indices, dtype=np.int64)
        chunks: list[np.ndarray] = []
        if self.group_by_size:
            sizes = self.n_nodes[idx]
            for n in np.unique(sizes):
                members = idx[sizes == n]
                if rng is not None:
                    members = rng.permutation(members)
                chunks += [members[k : k + batch_size] for k in range(0, members.size, batch_size)]
        else:
            order = rng.permutation(idx) if rng is not None else idx
            chunks = [order[k : k + batch_size] for k in range(0, order.size, batch_size)]
        if rng is not None:
            chunks = [chunks[i] for i in rng.permutation(len(chunks))]
        for chunk in chunks:
            yield self.batch(chunk), chunk


def flat_encoding(graphs: Sequence[ArchGraph], vocab: OpVocab, max_nodes: int) -> np.ndarray:
    """(M, D) float vectors: strictly-upper adjacency of ``max_nodes`` + one-hot op per node slot.

    Graphs with fewer nodes are padded before their output node, so the output always sits in
    the last slot (the NAS-Bench-101 convention); padded slots are all zeros.
    """
    tri = np.triu_indices(max_nodes, k=1)
    out = np.zeros((len(graphs), tri[0].size + max_nodes * len(vocab)), dtype=np.float32)
    for i, g in enumerate(graphs):
        n = g.n_nodes
        if n > max_nodes:
            raise ArchError(f"graph {i} has {n} nodes, more than max_nodes={max_nodes}")
        slots = list(range(n - 1)) + [max_nodes - 1]
        adj = np.zeros((max_nodes, max_nodes), dtype=np.float32)
        adj[np.ix_(slots, slots)] = g.adjacency
        onehot = np.zeros((max_nodes, len(vocab)), dtype=np.float32)
        onehot[slots, vocab.ids(g.ops)] = 1.0
        out[i, : tri[0].size] = adj[tri]
        out[i, tri[0].size :] = onehot.ravel()
    return out


class ArraySource:
    """A fixed-length feature matrix as a ``BatchSource`` (what the MLP baseline trains on)."""

    def __init__(self, features: np.ndarray) -> None:
        self.features = torch.as_tensor(np.asarray(features, dtype=np.float32))

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def batches(
        self, indices: np.ndarray, batch_size: int, rng: np.random.Generator | None
    ) -> Iterator[tuple[torch.Tensor, np.ndarray]]:
        """Row batches of ``features`` over ``indices`` (shuffled when ``rng`` is given)."""
        idx = np.asarray(indices, dtype=np.int64)
        if rng is not None:
            idx = rng.permutation(idx)
        for k in range(0, idx.size, batch_size):
            chunk = idx[k : k + batch_size]
            yield self.features[torch.from_numpy(chunk)], chunk


def op_counts(graphs: Sequence[ArchGraph], vocab: OpVocab) -> np.ndarray:
    """(M, V) count of each op per graph (column 0 counts ops unknown to ``vocab``)."""
    out = np.zeros((len(graphs), len(vocab)), dtype=np.float64)
    for i, g in enumerate(graphs):
        np.add.at(out[i], vocab.ids(g.ops), 1.0)
    return out
