"""Calls into a (possibly user-written) search space whose failures must name the space, the method
and the cell: a plug-in's ``to_graph`` that returns a back edge should say so, not raise a bare
"adjacency must be strictly upper triangular" from deep inside a predictor."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from nasearch.api.errors import ArchError
from nasearch.api.graph import ArchGraph


def describe_space(space: object) -> str:
    """``search space 'chain' (nasearch.search_spaces.examples.chain:ChainSpace)``-style name of a space."""
    cls = type(space)
    name = getattr(space, "name", None)
    where = f"{cls.__module__}:{cls.__qualname__}"
    return f"search space {name!r} ({where})" if isinstance(name, str) and name else f"search space {where}"


def describe_cell(space: Any, arch: Hashable) -> str:
    """The cell's string form where ``to_str`` works on it, else its repr."""
    try:
        return repr(space.to_str(arch))
    except Exception:  # noqa: BLE001 - the cell may be what is broken
        return repr(arch)


def to_graph(space: Any, arch: Hashable) -> ArchGraph:
    """``space.to_graph(arch)``, checked: any failure, or a result that is not an ArchGraph, raises
    one ArchError naming the space, the method and the cell."""
    try:
        graph = space.to_graph(arch)
    except ArchError as exc:
        where = f"{describe_space(space)}.to_graph({describe_cell(space, arch)})"
        raise ArchError(f"{where} failed: {exc}") from exc
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ArchError(
            f"{describe_space(space)}.to_graph({describe_cell(space, arch)}) failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(graph, ArchGraph):
        raise ArchError(
            f"{describe_space(space)}.to_graph({describe_cell(space, arch)}) returned "
            f"{type(graph).__name__}, not an ArchGraph"
        )
    return graph
