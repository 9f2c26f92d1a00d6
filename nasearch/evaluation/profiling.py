"""Parameter and FLOP counts of a torch module: what the evaluators report beside accuracy.

FLOPs follow the convention of the NAS-Bench-Suite-Zero tables (multiply-accumulates of
convolutions and linear layers plus their bias adds, one operation per pooling-window element,
three per BatchNorm output element; ReLU and additions are free), per image, in millions. On the
NB201 CIFAR-10 network this reproduces the ``flops`` column of NASLib's ``zc_nasbench201.json``
to within 0.0011 MFLOPs for every cell it lists, so a count here compares with the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn


def count_params(module: nn.Module) -> float:
    """Trainable parameters in millions (the unit of the benchmark tables)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad) / 1e6


def _conv(m: nn.Conv2d, x: torch.Tensor, y: torch.Tensor) -> int:
    per_position = m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
    positions = y.shape[0] * y.shape[2] * y.shape[3]
    return per_position * positions + (m.out_channels * positions if m.bias is not None else 0)


def _linear(m: nn.Linear, x: torch.Tensor, y: torch.Tensor) -> int:
    rows = y.numel() // m.out_features
    return rows * m.in_features * m.out_features + (y.numel() if m.bias is not None else 0)


def _pool(m: nn.AvgPool2d | nn.MaxPool2d, x: torch.Tensor, y: torch.Tensor) -> int:
    k = m.kernel_size
    area = k * k if isinstance(k, int) else k[0] * k[1]
    return area * y.numel()


def _batchnorm(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    return 3 * y.numel()


#: module type -> ``(module, input, output) -> FLOPs`` for the whole batch
FLOP_RULES: dict[type[nn.Module], Callable[[Any, torch.Tensor, torch.Tensor], int]] = {
    nn.Conv2d: _conv,
    nn.Linear: _linear,
    nn.AvgPool2d: _pool,
    nn.MaxPool2d: _pool,
    nn.BatchNorm2d: _batchnorm,
}


@torch.no_grad()
def count_flops(module: nn.Module, input_shape: Sequence[int]) -> float:
    """Forward FLOPs per image in millions for an input of ``input_shape`` (C, H, W)."""
    total = [0]

    def hook(m: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        total[0] += FLOP_RULES[type(m)](m, inputs[0], output)

    handles = [m.register_forward_hook(hook) for m in module.modules() if type(m) in FLOP_RULES]
    was_training = module.training
    try:
        module.eval()
        device = next((p.device for p in module.parameters()), torch.device("cpu"))
        module(torch.zeros(1, *input_shape, device=device))
    finally:
        module.train(was_training)
        for h in handles:
            h.remove()
    return total[0] / 1e6
