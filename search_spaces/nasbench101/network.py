"""The NAS-Bench-101 CIFAR-10 network of a cell as a torch module, and its exact parameter count.

Layout (Ying et al., ICML 2019; ``model_builder.py`` of google-research/nasbench): a 3x3 conv +
BN + ReLU stem of 128 channels, 3 stacks of 3 copies of the cell, a 2x2 max-pool and a doubling
of the channels before stacks 2 and 3, global average pooling and a dense layer. Inside a cell,
the output is the concatenation of the vertices that feed it (their channels split the cell's
output channels, the remainder going one by one to the first of them), plus a 1x1 projection of
the cell input when the input feeds the output; the input reaches other vertices through 1x1
conv-BN-ReLU projections, and a vertex with more channels than its successor is truncated.

:func:`count_params` computes the trainable-parameter count without torch; it equals the
benchmark's ``cifar10/params`` on every one of the 423,624 cells
(``python -m benchmarks.bench_nasbench101`` checks them all) and the torch module's count.
:func:`count_flops` computes the forward FLOPs per 32x32 image the same way, in the convention of
``nasearch.evaluation.profiling.count_flops`` (which it equals on the torch module): cheap enough for
every cell (the space's zero-cost proxies), where building 423,624 networks is not.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from nasearch.api.errors import ConfigError
from nasearch.search_spaces.nasbench101.spec import Cell, Matrix, cell_from_json, make_cell

#: batch-norm settings of the original (TF momentum 0.997 is torch momentum 0.003)
BN_MOMENTUM = 0.003
BN_EPSILON = 1e-5
_KERNEL = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1, "maxpool3x3": 0}


@lru_cache(maxsize=1 << 16)
def vertex_channels(input_channels: int, output_channels: int, matrix: Matrix) -> tuple[int, ...]:
    """Channels of every vertex, as ``compute_vertex_channels`` of the original builder.

    The ``k`` vertices feeding the output split ``output_channels``: each gets
    ``output_channels // k`` and the first ``output_channels % k`` of them one more. Every other
    interior vertex takes the largest channel count among its successors.
    """
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[-1] = input_channels, output_channels
    if n == 2:
        return tuple(channels)
    feeders = [v for v in range(1, n - 1) if matrix[v][n - 1]]
    base, extra = divmod(output_channels, len(feeders))
    for i, v in enumerate(feeders):
        channels[v] = base + (1 if i < extra else 0)
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            channels[v] = max(channels[d] for d in range(v + 1, n - 1) if matrix[v][d])
    return tuple(channels)


def _module_params(cell: Cell, c_in: int, c_out: int) -> int:
    matrix, n = cell.matrix, cell.n_vertices
    vc = vertex_channels(c_in, c_out, matrix)
    total = 0
    for t in range(1, n - 1):
        c = vc[t]
        if matrix[0][t]:  # 1x1 conv-BN-ReLU projection of the input
            total += c_in * c + 2 * c
        k = _KERNEL[cell.ops[t]]
        if k:
            total += k * k * c * c + 2 * c
    if matrix[0][n - 1]:
        total += c_in * c_out + 2 * c_out
    return total


def _modules(stem_channels: int, num_stacks: int, modules_per_stack: int) -> Iterator[tuple[int, int, int]]:
    """(stack, input channels, output channels) of every module of the network, in order."""
    c_prev = stem_channels
    for stack in range(num_stacks):
        c = stem_channels * 2**stack
        for module in range(modules_per_stack):
            yield stack, c_prev if module == 0 else c, c
        c_prev = c


def count_params(
    cell: Cell,
    stem_channels: int = 128,
    num_stacks: int = 3,
    modules_per_stack: int = 3,
    num_classes: int = 10,
    in_channels: int = 3,
) -> int:
    """Trainable parameters of :func:`build_network` (convs without bias, BN scale and shift, dense)."""
    total = 9 * in_channels * stem_channels + 2 * stem_channels
    for _, c_in, c_out in _modules(stem_channels, num_stacks, modules_per_stack):
        total += _module_params(cell, c_in, c_out)
    c_last = stem_channels * 2 ** (num_stacks - 1)
    return total + c_last * num_classes + num_classes


def _module_flops(cell: Cell, c_in: int, c_out: int, area: int) -> int:
    """FLOPs of one module on ``area`` positions: convs' multiply-accumulates, 3 per BatchNorm output
    element, 9 per 3x3 max-pool output element (``profiling.FLOP_RULES``)."""
    matrix, n = cell.matrix, cell.n_vertices
    vc = vertex_channels(c_in, c_out, matrix)

    def conv_bn(c_a: int, c_b: int, k: int) -> int:
        return (k * k * c_a * c_b + 3 * c_b) * area

    total = 0
    for t in range(1, n - 1):
        c = vc[t]
        if matrix[0][t]:
            total += conv_bn(c_in, c, 1)
        k = _KERNEL[cell.ops[t]]
        total += conv_bn(c, c, k) if k else 9 * c * area
    if matrix[0][n - 1]:
        total += conv_bn(c_in, c_out, 1)
    return total


def count_flops(
    cell: Cell,
    stem_channels: int = 128,
    num_stacks: int = 3,
    modules_per_stack: int = 3,
    num_classes: int = 10,
    in_channels: int = 3,
    image_size: int = 32,
) -> float:
    """Forward FLOPs per image of :func:`build_network`, in millions (as ``profiling.count_flops``)."""
    total = (9 * in_channels * stem_channels + 3 * stem_channels) * image_size**2
    for stack, c_in, c_out in _modules(stem_channels, num_stacks, modules_per_stack):
        area = (image_size // 2**stack) ** 2
        if stack > 0 and c_in != c_out:  # a stack's first module: the 2x2 max-pool before it
            total += 4 * c_in * area
        total += _module_flops(cell, c_in, c_out, area)
    c_last = stem_channels * 2 ** (num_stacks - 1)
    return (total + c_last * num_classes + num_classes) / 1e6


def as_cell(spec: Any) -> Cell:
    """A Cell from a Cell, a ``{"matrix", "ops"}`` dict or its JSON text (pruned and checked)."""
    if isinstance(spec, Cell):
        return spec
    if isinstance(spec, str):
        return cell_from_json(spec)
    if isinstance(spec, dict) and "matrix" in spec and "ops" in spec:
        return make_cell(spec["matrix"], spec["ops"])
    raise ConfigError(
        f"cannot build an NB101 network from {spec!r}: give a Cell or a {{'matrix', 'ops'}} spec"
    )


def build_network(
    spec: Any,
    stem_channels: int = 128,
    num_stacks: int = 3,
    modules_per_stack: int = 3,
    num_classes: int = 10,
    in_channels: int = 3,
) -> Any:
    """The NB101 network of a cell as a ``torch.nn.Module`` (defaults: the benchmark's CIFAR-10 net)."""
    for name, value in (
        ("stem_channels", stem_channels),
        ("num_stacks", num_stacks),
        ("modules_per_stack", modules_per_stack),
        ("num_classes", num_classes),
        ("in_channels", in_channels),
    ):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"NB101 network option {name} must be a positive integer, got {value!r}")
    from nasearch.search_spaces.nasbench101.torch_modules import NasBench101Network

    return NasBench101Network(
        as_cell(spec), stem_channels, num_stacks, modules_per_stack, num_classes, in_channels
    )


__all__: Sequence[str] = ("build_network", "count_flops", "count_params", "vertex_channels", "as_cell")
