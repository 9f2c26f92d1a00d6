"""A complete search-space plug-in: MobileNet-like stages, each with a kernel size, an expansion
ratio and a depth. Copy this file to start your own.

Use it from a run config beside this file (the module is imported from the config's folder):
``search_space: {name: "my_space:StagesSpace", stages: 4}``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from nasearch.api import SearchSpace
from nasearch.api.errors import ArchError
from nasearch.api.graph import ArchGraph

Stage = tuple[int, int, int]  # (kernel, expand, depth)
Arch = tuple[Stage, ...]


class StagesSpace(SearchSpace[Arch]):
    """``stages`` stages; each picks a kernel, an expansion ratio and a depth."""

    name = "stages"

    def __init__(
        self,
        stages: int = 4,
        kernels: list[int] | None = None,
        expands: list[int] | None = None,
        depths: list[int] | None = None,
    ) -> None:
        if stages < 1:
            raise ValueError(f"stages must be >= 1, got {stages}")
        self.stages = int(stages)
        self.kernels = tuple(kernels or (3, 5, 7))
        self.expands = tuple(expands or (1, 3, 6))
        self.depths = tuple(depths or (1, 2, 3))
        self._choices = (self.kernels, self.expands, self.depths)

    # --- the six required methods -------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Arch:
        """A uniformly random architecture."""
        stages = (tuple(int(rng.choice(c)) for c in self._choices) for _ in range(self.stages))
        return tuple(stages)  # type: ignore[arg-type]

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """Change one choice of one stage (never returns ``arch`` itself)."""
        stage, field = int(rng.integers(self.stages)), int(rng.integers(3))
        options = [v for v in self._choices[field] if v != arch[stage][field]]
        new = list(arch[stage])
        new[field] = int(rng.choice(options))
        return arch[:stage] + (tuple(new),) + arch[stage + 1 :]  # type: ignore[return-value]

    def to_graph(self, arch: Arch) -> ArchGraph:
        """A chain: input -> one node per stage -> output; the choices are node attributes."""
        n = self.stages + 2
        ops = ["input", *(f"mbconv_k{k}" for k, _, _ in arch), "output"]
        attrs = [{}, *({"kernel": k, "expand": e, "depth": d} for k, e, d in arch), {}]
        return ArchGraph(ops, np.eye(n, k=1, dtype=np.int8), attrs)

    def key(self, arch: Arch) -> str:
        """Distinct architectures compute distinct functions here, so the string form is the key."""
        return self.to_str(arch)

    def to_str(self, arch: Arch) -> str:
        """JSON: ``[[kernel, expand, depth], ...]`` (what tracking stores)."""
        return json.dumps([list(s) for s in arch])

    def from_str(self, text: str) -> Arch:
        """Parse ``to_str``'s output; an ArchError says what is wrong."""
        try:
            raw = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ArchError(f"stages arch {text!r} is not JSON: {exc}") from None
        if not isinstance(raw, list) or len(raw) != self.stages:
            raise ArchError(f"stages arch {text!r} must list {self.stages} [kernel, expand, depth] stages")
        for i, stage in enumerate(raw):
            if not (
                isinstance(stage, list)
                and len(stage) == 3
                and all(v in c for v, c in zip(stage, self._choices))
            ):
                raise ArchError(f"stage {i} ({stage!r}) is outside the space {self._choices}")
        return tuple(tuple(int(v) for v in stage) for stage in raw)  # type: ignore[misc]

    # --- optional: a torch network, so the `train` evaluator can train it -------------------
    def network(
        self, arch: Arch, num_classes: int = 10, in_channels: int = 3, width: int = 16, **_: Any
    ) -> Any:
        """Stem, then per stage ``depth`` inverted-residual blocks, pooling and a classifier."""
        from torch import nn

        stem = nn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        layers: list[Any] = [stem, nn.BatchNorm2d(width), nn.ReLU()]
        for kernel, expand, depth in arch:
            for _ in range(depth):
                layers.append(_InvertedResidual(width, kernel, expand))
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)]
        return nn.Sequential(*layers)


def _InvertedResidual(width: int, kernel: int, expand: int) -> Any:  # noqa: N802 - a module factory
    """1x1 expand, depthwise kxk, 1x1 project, with a residual connection."""
    from torch import nn

    hidden = width * expand

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(width, hidden, 1, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU(),
                nn.Conv2d(hidden, hidden, kernel, padding=kernel // 2, groups=hidden, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU(),
                nn.Conv2d(hidden, width, 1, bias=False),
                nn.BatchNorm2d(width),
            )

        def forward(self, x: Any) -> Any:
            return x + self.body(x)

    return Block()
