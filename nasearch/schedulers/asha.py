"""Asynchronous successive halving (ASHA, Li et al. 2020): no barrier; whenever a worker is free,
promote a cell that is in the top 1/eta of the results finished at its rung, else start a new one."""

from __future__ import annotations

from nasearch.api.fidelity import Job, Propose
from nasearch.schedulers.base import RungScheduler, check_eta


class ASHA(RungScheduler):
    """``eta``: the reduction factor (a rung promotes its top 1/eta). Promotions are tried from the
    highest rung down, so the cells closest to the full fidelity go first. Cells never promoted
    end PRUNED when the search stops."""

    name = "asha"

    def __init__(self, eta: float = 3.0) -> None:
        super().__init__()
        self.eta = check_eta(self.name, eta)

    def ranked(self, rung: int) -> list[str]:
        """The cells finished at ``rung``, best first (what a promotion picks from)."""
        done = self.done[rung]
        return sorted(done, key=lambda k: (-done[k], k))

    def next_job(self, propose: Propose) -> Job | None:
        for rung in reversed(range(self.top_rung)):
            done = self.done[rung]
            quota = int(len(done) // self.eta)
            for key in self.ranked(rung)[:quota]:
                if key not in self.promoted[rung] and done[key] > float("-inf"):
                    return self.job(key, self.archs[key], rung + 1)
        return self.new_cell(propose)
