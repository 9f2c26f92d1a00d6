"""The NAS-Bench-201 macro skeleton as a torch module, so any NB201 cell can be trained for real.

Layout (as in the benchmark, Dong & Yang, ICLR 2020): a 3x3 conv + BN stem with ``C`` channels,
three stages of ``N`` copies of the cell at ``C``, ``2C`` and ``4C`` channels, a residual reduction
block (two ReLU-conv-BN 3x3 convs, the first of stride 2, plus an avg-pool + 1x1 conv shortcut)
between the stages, then BN + ReLU, global average pooling and a linear classifier. With
``C=16, N=5, num_classes=10`` the parameter count equals the benchmark's ``cifar10/params`` for
every one of the 15,625 cells (``benchmarks/bench_real_eval.py`` checks all of them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from nasearch.api.errors import ArchError, ConfigError, shown
from nasearch.search_spaces.nasbench201.space import EDGES, OPS, Arch, arch_to_str, str_to_arch


class ReLUConvBN(nn.Sequential):
    """ReLU -> conv (no bias) -> BatchNorm: the conv op of the cell and of the reduction block."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class ResidualReduction(nn.Module):
    """The block between stages: halves the resolution and changes the channel count."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)


#: op name -> factory of the edge module for ``C`` channels (``none`` edges are skipped)
EDGE_OPS: dict[str, Callable[[int], nn.Module]] = {
    "skip_connect": lambda c: nn.Identity(),
    "nor_conv_1x1": lambda c: ReLUConvBN(c, c, 1),
    "nor_conv_3x3": lambda c: ReLUConvBN(c, c, 3),
    "avg_pool_3x3": lambda c: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
}


class Cell(nn.Module):
    """One NB201 cell: node j sums its op-transformed predecessors; node 3 is the output.

    ``none`` edges contribute zeros, so they are left out of the sum (same output, no work);
    a node with only ``none`` inputs is a zero tensor.
    """

    def __init__(self, arch: Arch, channels: int) -> None:
        super().__init__()
        self.edges = [(src, dst, op) for (src, dst), op in zip(EDGES, arch) if op != "none"]
        self.ops = nn.ModuleList(EDGE_OPS[op](channels) for _, _, op in self.edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor | None] = [x, None, None, None]
        for (src, dst, _), op in zip(self.edges, self.ops):
            source = nodes[src]
            out = op(source if source is not None else torch.zeros_like(x))
            current = nodes[dst]
            nodes[dst] = out if current is None else current + out
        result = nodes[3]
        return result if result is not None else torch.zeros_like(x)


class NasBench201Network(nn.Module):
    """Stem, 3 stages of ``N`` cells with residual reductions between, global pool, classifier."""

    def __init__(self, arch: Arch, C: int, N: int, num_classes: int, in_channels: int) -> None:
        super().__init__()
        self.arch = arch
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, C, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(C)
        )
        layers: list[nn.Module] = []
        channels = C
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(channels, channels * 2))
                channels *= 2
            layers.extend(Cell(arch, channels) for _ in range(N))
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.pool(self.head(self.cells(self.stem(x))))
        return self.classifier(torch.flatten(features, 1))

    def extra_repr(self) -> str:
        return f"arch={arch_to_str(self.arch)!r}"


def build_network(
    arch: Arch | Sequence[str] | str,
    C: int = 16,
    N: int = 5,
    num_classes: int = 10,
    in_channels: int = 3,
) -> NasBench201Network:
    """The NB201 network of ``arch`` (a 6-op tuple or an arch string).

    ``C`` is the channel count of the first stage and ``N`` the number of cells per stage
    (16 and 5 in the benchmark); ``in_channels`` is 3 for colour images, 1 for the digits.
    """
    cell = str_to_arch(arch) if isinstance(arch, str) else _as_arch(arch)
    for name, value in (("C", C), ("N", N), ("num_classes", num_classes), ("in_channels", in_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"NB201 network option {name} must be a positive integer, got {value!r}")
    return NasBench201Network(cell, C, N, num_classes, in_channels)


def _as_arch(arch: Sequence[str]) -> Arch:
    if not isinstance(arch, (tuple, list)) or len(arch) != len(EDGES):
        raise ArchError(f"an NB201 cell is a 6-op tuple or an arch string, got {shown(arch)}")
    bad = [op for op in arch if op not in OPS]
    if bad:
        raise ArchError(f"unknown NB201 op(s) {bad} in {shown(arch)} (ops: {', '.join(OPS)})")
    return tuple(arch)
