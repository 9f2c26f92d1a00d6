"""The torch modules of the NB101 network (imported only when a network is built; see network.py)."""

from __future__ import annotations

import torch
from torch import nn

from nasearch.search_spaces.nasbench101.network import BN_EPSILON, BN_MOMENTUM, vertex_channels
from nasearch.search_spaces.nasbench101.spec import Cell


class ConvBnRelu(nn.Sequential):
    """Conv (no bias, same padding) -> BatchNorm -> ReLU, as ``base_ops.conv_bn_relu``."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPSILON, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def _op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return ConvBnRelu(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBnRelu(channels, channels, 1)
    return nn.MaxPool2d(3, stride=1, padding=1)  # maxpool3x3 keeps its channels


class Cell101(nn.Module):
    """One NB101 module: vertices sum truncated predecessors and the projected input; output concatenates."""

    def __init__(self, cell: Cell, c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = cell.matrix
        n = cell.n_vertices
        self.channels = vertex_channels(c_in, c_out, cell.matrix)
        ops = [_op(cell.ops[t], self.channels[t]) for t in range(1, n - 1)]
        self.ops = nn.ModuleList([nn.Identity(), *ops])
        self.projections = nn.ModuleDict(
            {str(t): ConvBnRelu(c_in, self.channels[t], 1) for t in range(1, n) if cell.matrix[0][t]}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, vc = len(self.matrix), self.matrix, self.channels
        tensors = [x]
        outputs = []
        for t in range(1, n - 1):
            inputs = [tensors[s][:, : vc[t]] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                inputs.append(self.projections[str(t)](x))
            h = inputs[0] if len(inputs) == 1 else torch.stack(inputs).sum(0)
            tensors.append(self.ops[t](h))
            if m[t][n - 1]:
                outputs.append(tensors[t])
        if not outputs:
            return self.projections[str(n - 1)](x)
        out = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)
        if m[0][n - 1]:
            out = out + self.projections[str(n - 1)](x)
        return out


class NasBench101Network(nn.Module):
    """Stem, stacks of cells with max-pool and channel doubling between them, global pool, dense head."""

    def __init__(
        self,
        cell: Cell,
        stem_channels: int,
        num_stacks: int,
        modules_per_stack: int,
        num_classes: int,
        in_channels: int,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBnRelu(in_channels, stem_channels, 3)]
        c_prev = stem_channels
        for stack in range(num_stacks):
            c = stem_channels * 2**stack
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
            for _ in range(modules_per_stack):
                layers.append(Cell101(cell, c_prev, c))
                c_prev = c
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))
