"""The default scheduler: every cell is evaluated once, at the full fidelity (no promotions)."""

from __future__ import annotations

from nasearch.api.fidelity import Job, Propose
from nasearch.schedulers.base import RungScheduler


class FullFidelity(RungScheduler):
    """Each proposal runs at the full fidelity: plain search, but on the simulated clock with W workers."""

    name = "full"

    def next_job(self, propose: Propose) -> Job | None:
        return self.new_cell(propose, self.top_rung)
