"""An example plug-in search space: a chain of convolutional blocks with per-block attributes.

This is the file to copy when you plug in your own space (README: "Plug in your own search
space"). An architecture is a tuple of blocks; each block is ``(op, kernel, width)``. The space is
registered by entry point in ``setup.cfg``::

    [options.entry_points]
    nasearch.search_spaces =
        chain = nasearch.search_spaces.examples.chain:ChainSpace

It offers the required methods (sample, mutate, to_graph, key, to_str, from_str) plus
``neighbours``, a categorical encoding (so Optuna's samplers can drive it) and ``network`` (a
torch module, so the real training evaluator can train it). It has no benchmark table.

Test your copy with the checks nasearch runs on its own spaces (docs/plugins.md, "Testing a
plug-in"; tests/conformance/test_kit.py runs this one)::

    from nasearch.testing import check_space
    check_space(ChainSpace(depth=2))  # {check: "passed" | "skipped: why"}, or an AssertionError
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from nasearch.api import SearchSpace
from nasearch.api.errors import ArchError
from nasearch.api.graph import ArchGraph

Block = tuple[str, int, int]
Arch = tuple[Block, ...]


class ChainSpace(SearchSpace[Arch]):
    """Chains of ``depth`` blocks, each an op with a kernel size and a width."""

    name = "chain"

    def __init__(
        self,
        depth: int = 4,
        ops: tuple[str, ...] | list[str] = ("conv", "depthwise_conv", "maxpool", "identity"),
        kernels: tuple[int, ...] | list[int] = (1, 3, 5),
        widths: tuple[int, ...] | list[int] = (8, 16, 32),
    ) -> None:
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        unknown = [op for op in ops if op not in _LAYERS]
        if unknown:
            raise ValueError(f"unknown chain op(s) {unknown}; known: {', '.join(_LAYERS)}")
        self.depth = int(depth)
        self.ops = tuple(ops)
        self.kernels = tuple(int(k) for k in kernels)
        self.widths = tuple(int(w) for w in widths)

    # --- required ---------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Arch:
        return tuple(
            (
                self.ops[int(rng.integers(len(self.ops)))],
                self.kernels[int(rng.integers(len(self.kernels)))],
                self.widths[int(rng.integers(len(self.widths)))],
            )
            for _ in range(self.depth)
        )

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        options = self.neighbours(arch)
        return options[int(rng.integers(len(options)))]

    def to_graph(self, arch: Arch) -> ArchGraph:
        n = len(arch) + 2
        adjacency = np.eye(n, k=1, dtype=np.int8)  # a chain: i -> i + 1
        ops = ("input", *(op for op, _, _ in arch), "output")
        attrs = [{}, *({"kernel": k, "width": w} for _, k, w in arch), {}]
        return ArchGraph(ops, adjacency, attrs)

    def to_str(self, arch: Arch) -> str:
        return json.dumps([list(block) for block in arch])

    def from_str(self, text: str) -> Arch:
        try:
            raw = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ArchError(f"chain arch {text!r} is not JSON: {exc}") from None
        if not isinstance(raw, list) or len(raw) != self.depth:
            raise ArchError(
                f"chain arch {text!r} must be a JSON list of {self.depth} [op, kernel, width] blocks"
            )
        arch = []
        for i, block in enumerate(raw):
            if not (isinstance(block, list) and len(block) == 3):
                raise ArchError(f"chain arch block {i} ({block!r}) must be [op, kernel, width]")
            op, kernel, width = block
            if op not in self.ops or kernel not in self.kernels or width not in self.widths:
                raise ArchError(
                    f"chain arch block {i} ({block!r}) is outside the space: ops {self.ops}, "
                    f"kernels {self.kernels}, widths {self.widths}"
                )
            arch.append((str(op), int(kernel), int(width)))
        return tuple(arch)

    # --- optional capabilities ------------------------------------------------------------------
    def neighbours(self, arch: Arch) -> list[Arch]:
        """Every chain that differs from ``arch`` in one attribute of one block."""
        out: list[Arch] = []
        for i, (op, kernel, width) in enumerate(arch):
            for new in (
                *((o, kernel, width) for o in self.ops if o != op),
                *((op, k, width) for k in self.kernels if k != kernel),
                *((op, kernel, w) for w in self.widths if w != width),
            ):
                out.append(arch[:i] + (new,) + arch[i + 1 :])
        return out

    def categorical_choices(self) -> dict[str, list[Any]]:
        choices: dict[str, list[Any]] = {}
        for i in range(self.depth):
            choices[f"block{i}_op"] = list(self.ops)
            choices[f"block{i}_kernel"] = list(self.kernels)
            choices[f"block{i}_width"] = list(self.widths)
        return choices

    def to_categorical(self, arch: Arch) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, (op, kernel, width) in enumerate(arch):
            out.update({f"block{i}_op": op, f"block{i}_kernel": kernel, f"block{i}_width": width})
        return out

    def from_categorical(self, params: dict[str, Any]) -> Arch:
        try:
            return tuple(
                (params[f"block{i}_op"], int(params[f"block{i}_kernel"]), int(params[f"block{i}_width"]))
                for i in range(self.depth)
            )
        except KeyError as exc:
            raise ArchError(f"chain categorical parameters lack {exc.args[0]!r}") from None

    def network(self, arch: Arch, num_classes: int = 10, in_channels: int = 3, **_: Any) -> Any:
        """A torch module: the chain of blocks, global average pooling, a linear classifier."""
        import torch.nn as nn

        layers: list[nn.Module] = []
        channels = in_channels
        for op, kernel, width in arch:
            layer, channels = _LAYERS[op](channels, kernel, width)
            layers.append(layer)
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
        return nn.Sequential(*layers)


def _conv(c_in: int, kernel: int, width: int) -> tuple[Any, int]:
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(c_in, width, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(width), nn.ReLU()
    ), width


def _depthwise(c_in: int, kernel: int, width: int) -> tuple[Any, int]:
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(c_in, c_in, kernel, padding=kernel // 2, groups=c_in, bias=False),
        nn.Conv2d(c_in, width, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
    ), width


def _maxpool(c_in: int, kernel: int, width: int) -> tuple[Any, int]:
    import torch.nn as nn

    return nn.MaxPool2d(kernel, stride=1, padding=kernel // 2), c_in


def _identity(c_in: int, kernel: int, width: int) -> tuple[Any, int]:
    import torch.nn as nn

    return nn.Identity(), c_in


#: op name -> builder(c_in, kernel, width) -> (module, c_out); widths apply to convolutions only
_LAYERS = {"conv": _conv, "depthwise_conv": _depthwise, "maxpool": _maxpool, "identity": _identity}
