"""A complete evaluator plug-in: the number of parameters of the space's network, minimised.

It shows the whole evaluator contract: ``objective`` and ``maximize`` name what the search
optimises; the constructor takes ``space`` (the runner passes it because the parameter is named
``space``); ``evaluate`` returns a ``Result`` with the metrics, what the evaluation cost and free
``info``. Use it as ``evaluator: {name: "my_evaluator:ParamCount", width: 16}``.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

from nasearch.api import Evaluator, Result


class ParamCount(Evaluator):
    """Millions of trainable parameters of ``space.network(arch)``; picklable, so Ray can ship it."""

    objective = "params_m"
    maximize = False

    def __init__(self, space: Any, width: int = 16, num_classes: int = 10) -> None:
        if not callable(getattr(space, "network", None)):
            name = type(space).__name__
            raise ValueError(f"ParamCount needs a space with a network() method; {name} has none")
        self.space = space
        self.width = int(width)
        self.num_classes = int(num_classes)

    def evaluate(self, arch: Hashable) -> Result:
        """Build the network and count its parameters (an exception here becomes a FAIL trial)."""
        start = time.perf_counter()
        net = self.space.network(arch, num_classes=self.num_classes, width=self.width)
        params = sum(p.numel() for p in net.parameters() if p.requires_grad) / 1e6
        return Result(
            metrics={"params_m": params, "layers": float(sum(1 for _ in net.modules()))},
            cost_seconds=time.perf_counter() - start,  # the wall time this evaluation took
            simulated_seconds=0.0,  # a benchmark lookup reports the training time its table recorded
            info={"width": self.width},
        )
