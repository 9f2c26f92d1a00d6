"""NAS-Bench-101 cell specs: the rules of a valid cell, pruning, and the official module hash.

A cell is an upper-triangular 0/1 adjacency matrix over at most 7 vertices (vertex 0 the input,
the last the output) and one op per vertex. As in the original library (``ModelSpec``), vertices
that lie on no input -> output path are pruned first, and the *pruned* cell must have at most 7
vertices and 9 edges and only the ops conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3 inside. The
module hash is ``graph_util.hash_module`` with labels ``[-1, op indices..., -2]``, which
``nasearch.api.graph.wl_hash`` implements, so :func:`module_hash` equals the official hash.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from nasearch.api.errors import ArchError
from nasearch.api.graph import wl_hash

INPUT = "input"
OUTPUT = "output"
#: the interior ops, in the order of the official config's ``available_ops`` (their hash labels)
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
OP_LABEL: dict[str, int] = {op: i for i, op in enumerate(OPS)}
MAX_VERTICES = 7
MAX_EDGES = 9
NUM_CELLS = 423_624

Matrix = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Cell:
    """A pruned, valid NAS-Bench-101 cell: adjacency rows as tuples and the op of every vertex.

    Build one with :func:`make_cell` (which prunes and validates); two isomorphic cells are
    different objects with the same :func:`module_hash`.
    """

    matrix: Matrix
    ops: tuple[str, ...]

    @property
    def n_vertices(self) -> int:
        """Vertices, input and output included."""
        return len(self.ops)

    @property
    def n_edges(self) -> int:
        """Edges of the (pruned) cell."""
        return sum(map(sum, self.matrix))

    def to_json(self) -> dict[str, Any]:
        """``{"matrix": [[...]], "ops": [...]}``, the spec format of the original library."""
        return {"matrix": [list(r) for r in self.matrix], "ops": list(self.ops)}


def _entry(value: Any) -> int:
    """An adjacency entry: exactly 0 or 1 (a number or bool; 0.9 or "1" is refused, not rounded)."""
    if isinstance(value, (bool, numbers.Real)) and not isinstance(value, str) and value in (0, 1):
        return 1 if value == 1 else 0
    raise ArchError(f"an NB101 matrix entry must be 0 or 1, got {value!r}")


def _as_matrix(matrix: Any) -> list[list[int]]:
    if isinstance(matrix, (str, bytes)):
        raise ArchError(f"an NB101 matrix must be a square list of 0/1 rows, got {matrix!r}")
    try:
        raw = [list(row) for row in matrix]
    except TypeError:
        raise ArchError(f"an NB101 matrix must be a square list of 0/1 rows, got {matrix!r}") from None
    rows = [[_entry(v) for v in row] for row in raw]
    n = len(rows)
    if n == 0 or any(len(r) != n for r in rows):
        raise ArchError(f"an NB101 matrix must be square, got row lengths {[len(r) for r in rows]}")
    return rows


def prune(matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> tuple[list[list[int]], list[str]]:
    """Drop the vertices on no input -> output path; an ArchError when no such path exists."""
    n = len(ops)
    from_input = {0}
    for v in range(n):
        if v in from_input:
            from_input.update(w for w in range(v + 1, n) if matrix[v][w])
    to_output = {n - 1}
    for v in range(n - 1, -1, -1):
        if v in to_output:
            to_output.update(u for u in range(v) if matrix[u][v])
    keep = sorted(from_input & to_output)
    if 0 not in keep or (n - 1) not in keep:
        raise ArchError("the NB101 cell has no path from the input to the output vertex")
    return [[matrix[i][j] for j in keep] for i in keep], [ops[i] for i in keep]


def make_cell(matrix: Any, ops: Sequence[str]) -> Cell:
    """Validate a spec, prune it as the original ``ModelSpec`` does, and check the pruned cell.

    Raises one ArchError naming the broken rule: shape, not upper triangular, input/output ops,
    unknown op, no input -> output path, more than 7 vertices or 9 edges after pruning.
    """
    rows = _as_matrix(matrix)
    ops_l = [str(op) for op in ops] if not isinstance(ops, str) else [ops]
    n = len(rows)
    if len(ops_l) != n:
        raise ArchError(f"an NB101 spec needs one op per vertex: {n}x{n} matrix but {len(ops_l)} ops")
    if n < 2:
        raise ArchError("an NB101 cell needs at least an input and an output vertex")
    if any(rows[i][j] for i in range(n) for j in range(i + 1)):
        raise ArchError("the NB101 matrix is not strictly upper triangular (edges must go i -> j with i < j)")
    if ops_l[0] != INPUT or ops_l[-1] != OUTPUT:
        raise ArchError(
            f"an NB101 cell's first op must be 'input' and its last 'output', got {ops_l[0]!r}, {ops_l[-1]!r}"
        )
    bad = [op for op in ops_l[1:-1] if op not in OP_LABEL]
    if bad:
        raise ArchError(f"unknown NB101 op {bad[0]!r} (ops: {', '.join(OPS)})")
    rows, ops_l = prune(rows, ops_l)
    if len(ops_l) > MAX_VERTICES:
        raise ArchError(
            f"the NB101 cell has {len(ops_l)} vertices after pruning, at most {MAX_VERTICES} allowed"
        )
    edges = sum(map(sum, rows))
    if edges > MAX_EDGES:
        raise ArchError(f"the NB101 cell has {edges} edges after pruning, at most {MAX_EDGES} allowed")
    return Cell(tuple(tuple(r) for r in rows), tuple(ops_l))


def quick_cell(rows: list[list[int]], ops: list[str]) -> Cell | None:
    """Prune and check a spec already known to be well formed (0/1, upper triangular, known ops).

    The fast path of mutation and neighbourhoods: ``None`` where :func:`make_cell` would raise.
    """
    n = len(ops)
    succ = [sum(1 << w for w in range(v + 1, n) if rows[v][w]) for v in range(n)]
    reach = 1
    for v in range(n):
        if reach >> v & 1:
            reach |= succ[v]
    back = 1 << (n - 1)
    for v in range(n - 2, -1, -1):
        if succ[v] & back:
            back |= 1 << v
    keep_mask = reach & back
    if not keep_mask & 1:
        return None
    keep = [v for v in range(n) if keep_mask >> v & 1]
    if len(keep) > MAX_VERTICES:
        return None
    matrix = tuple(tuple(rows[i][j] for j in keep) for i in keep)
    if sum(map(sum, matrix)) > MAX_EDGES:
        return None
    return Cell(matrix, tuple(ops[i] for i in keep))


def labels(ops: Sequence[str]) -> list[int]:
    """The official hash labels: -1 for the input, the op's index in :data:`OPS`, -2 for the output."""
    return [-1, *(OP_LABEL[op] for op in ops[1:-1]), -2]


@lru_cache(maxsize=1 << 18)
def module_hash(cell: Cell) -> str:
    """The official NAS-Bench-101 module hash of a (pruned) cell; cached for hot loops."""
    return wl_hash(np.array(cell.matrix, dtype=np.int8), labels(cell.ops))


def cell_from_json(text: str) -> Cell:
    """Parse ``{"matrix": [[...]], "ops": [...]}`` (pruned before it is checked)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchError(
            f'an NB101 spec must be JSON like {{"matrix": [[...]], "ops": [...]}}: {exc}'
        ) from None
    except RecursionError:
        raise ArchError(
            f"an NB101 spec is nested too deeply ({len(text):,} characters); it is "
            '{"matrix": [[...]], "ops": [...]}: a 7x7 matrix at most'
        ) from None
    if not isinstance(data, dict) or "matrix" not in data or "ops" not in data:
        raise ArchError("an NB101 spec must be a JSON object with the keys 'matrix' and 'ops'")
    if not isinstance(data["ops"], list):
        raise ArchError("the 'ops' of an NB101 spec must be a list of op names")
    return make_cell(data["matrix"], data["ops"])


def cell_to_json(cell: Cell) -> str:
    """Compact JSON of a cell; :func:`cell_from_json` reads it back."""
    return json.dumps(cell.to_json(), separators=(",", ":"))


# --- the compact encoding of the enumeration (bits over vertex pairs, ops in base 3) -----------
def pair_bit(x: int, y: int) -> int:
    """Bit of edge x -> y (x < y) in the official generator's ``gen_is_edge_fn`` encoding."""
    return y * (y - 1) // 2 + x


@lru_cache(maxsize=1 << 16)
def encode(cell: Cell) -> tuple[int, int, int]:
    """``(n_vertices, edge bits, op code)``: op code is the interior labels read as base 3."""
    n = cell.n_vertices
    bits = 0
    for x in range(n):
        for y in range(x + 1, n):
            if cell.matrix[x][y]:
                bits |= 1 << pair_bit(x, y)
    code = 0
    for op in cell.ops[1:-1]:
        code = code * 3 + OP_LABEL[op]
    return n, bits, code


@lru_cache(maxsize=1 << 16)
def decode(n: int, bits: int, code: int) -> Cell:
    """The cell of :func:`encode`'s triple (trusted input: the index's own rows)."""
    matrix = tuple(
        tuple(1 if y > x and (bits >> pair_bit(x, y)) & 1 else 0 for y in range(n)) for x in range(n)
    )
    interior = []
    for _ in range(n - 2):
        interior.append(OPS[code % 3])
        code //= 3
    return Cell(matrix, (INPUT, *reversed(interior), OUTPUT))
