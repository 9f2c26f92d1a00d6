"""Zero-cost proxies of a torch module: scores of an untrained network that rank architectures.

Only proxies that need no data are here, so a score is a function of the architecture (and the
initialisation seed) alone. ``synflow`` follows Tanaka et al. (NeurIPS 2020) as the zero-cost proxy
papers compute it (Abdelfattah et al., ICLR 2021; NAS-Bench-Suite-Zero): BatchNorm layers removed,
every weight replaced by its absolute value, all in float64, one all-ones input image; the score is
``sum |w * dR/dw|`` over the weights of convolutions and linear layers, ``R`` the sum of the outputs.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

#: the layers whose weights synflow scores (the prunable ones of the zero-cost papers)
SCORED_LAYERS: tuple[type[nn.Module], ...] = (nn.Conv2d, nn.Linear)


def without_batchnorm(module: nn.Module, inplace: bool = False) -> nn.Module:
    """``module`` (a copy unless ``inplace``) with its BatchNorm layers made identities (the papers'
    ``bn=False`` copy)."""
    out = module if inplace else copy.deepcopy(module)
    for parent in out.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(parent, name, nn.Identity())
    return out


def synflow(module: nn.Module, input_shape: Sequence[int], inplace: bool = False) -> float:
    """The synflow score of ``module`` as it is initialised, for one input of ``input_shape`` (C, H, W).

    A float64 copy without BatchNorm is scored; ``inplace``: ``module`` itself is made that (faster,
    for a network built only to be scored). Scores grow with depth and width over many orders of
    magnitude; compare them by rank (or their log).
    """
    net = without_batchnorm(module, inplace).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    x = torch.ones((1, *input_shape), dtype=torch.float64)
    torch.sum(net(x)).backward()
    total = 0.0
    with torch.no_grad():
        for layer in net.modules():
            weight = getattr(layer, "weight", None) if isinstance(layer, SCORED_LAYERS) else None
            if isinstance(weight, torch.Tensor) and weight.grad is not None:
                total += float(torch.sum(torch.abs(weight * weight.grad)))
    return total


__all__ = ["SCORED_LAYERS", "without_batchnorm", "synflow"]
