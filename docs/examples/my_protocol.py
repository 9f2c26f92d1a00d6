"""A complete split-protocol plug-in for ``nasearch compare``: train on the cheapest cells, test on
the rest. It asks whether a predictor extrapolates from small networks to larger ones.

Name it in a compare config as ``protocol: "my_protocol:cheapest_first"`` (the module is imported
from the config's folder); ``protocol_options: {cost_metric: ...}`` picks the cost column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from nasearch.compare import Split


def cheapest_first(task: Any, size: int, seed: int, config: Any) -> Iterator[Split]:
    """Train on the ``size`` cells with the fewest parameters; test on every other cell.
    ``seed`` varies only the fit (the split is fixed)."""
    cost = task.column(config.protocol_options.get("cost_metric", "cifar10/params"))
    train_y, test_y = task.column(config.train_metric), task.column(config.target_metric)
    usable = np.flatnonzero(np.isfinite(cost) & np.isfinite(train_y) & np.isfinite(test_y))
    order = usable[np.argsort(cost[usable], kind="stable")]
    train, test = np.sort(order[:size]), np.sort(order[size:])
    yield Split(train, test, train_y[train], test_y[test], info={"split": "cheapest_first"})
