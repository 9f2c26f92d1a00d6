"""Synchronous successive halving, Hyperband and "many at low fidelity, the top-k fully": brackets
whose rungs wait until every cell of the rung below has finished, then keep its best.

A bracket starts ``sizes[0]`` cells at its base rung and promotes the best ``sizes[i]`` to rung
``base + i``. When no bracket has work for a free worker (they all wait at a barrier), the next
bracket opens, so the workers stay busy (as Syne Tune's synchronous Hyperband does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from nasearch.api.errors import ConfigError
from nasearch.api.fidelity import Job, Propose
from nasearch.schedulers.base import RungScheduler, check_eta


class Bracket:
    """One successive-halving bracket: base rung, cells per rung, who runs where."""

    def __init__(self, base: int, sizes: Sequence[int]) -> None:
        self.base = base
        self.sizes = [max(1, int(s)) for s in sizes]
        #: rung offset -> keys handed out there, in order
        self.members: list[list[str]] = [[] for _ in self.sizes]

    def rung(self, i: int) -> int:
        return self.base + i

    def full(self, i: int) -> bool:
        return len(self.members[i]) >= self.sizes[i]


class BracketScheduler(RungScheduler):
    """Brackets of successive halving; subclasses say what the next bracket is."""

    def __init__(self) -> None:
        super().__init__()
        self.brackets: list[Bracket] = []
        self.bracket_of: dict[str, Bracket] = {}
        self.count = 0

    def make_bracket(self) -> Bracket:  # pragma: no cover - abstract
        raise NotImplementedError

    def _finished(self, b: Bracket, i: int) -> bool:
        """Whether every cell handed out at offset ``i`` has a result, and the rung is full."""
        done = self.done[b.rung(i)]
        return b.full(i) and all(k in done for k in b.members[i])

    def _from(self, b: Bracket, propose: Propose) -> Job | None:
        for i in reversed(range(1, len(b.sizes))):  # promotions first
            if b.full(i) or not self._finished(b, i - 1):
                continue
            below = self.done[b.rung(i - 1)]
            ranked = sorted(b.members[i - 1], key=lambda k: (-below[k], k))
            keep = [k for k in ranked[: b.sizes[i]] if below[k] > -math.inf]
            if len(keep) < b.sizes[i]:
                b.sizes[i] = max(len(keep), 0)
            waiting = [k for k in keep if k not in b.members[i]]
            if not waiting:
                continue
            key = waiting[0]
            b.members[i].append(key)
            if b.full(i):
                self.stop([k for k in ranked if k not in keep])
            return self.job(key, self.archs[key], b.rung(i))
        if not b.full(0):
            job = self.new_cell(propose, b.rung(0))
            if job is None:
                b.sizes[0] = len(b.members[0])
                return None
            b.members[0].append(job.key)
            self.bracket_of[job.key] = b
            return job
        return None

    def next_job(self, propose: Propose) -> Job | None:
        for b in self.brackets:
            job = self._from(b, propose)
            if job is not None:
                return job
        if self.brackets and not self.brackets[-1].full(0):
            return None  # the newest bracket could not start a cell: the optimizer has nothing new
        b = self.make_bracket()
        self.count += 1
        self.brackets.append(b)
        self.brackets = [x for x in self.brackets if not self._done(x)] or [b]
        return self._from(b, propose)

    def _done(self, b: Bracket) -> bool:
        last = len(b.sizes) - 1
        return self._finished(b, last) and b.full(last)


class SuccessiveHalving(BracketScheduler):
    """Synchronous successive halving: every bracket starts ``n_initial`` cells at the lowest
    fidelity and keeps the best 1/``eta`` at each rung (default ``n_initial``: eta^(rungs-1), at least eta)."""

    name = "successive_halving"

    def __init__(self, eta: float = 3.0, n_initial: int | None = None) -> None:
        super().__init__()
        self.eta = check_eta(self.name, eta)
        if n_initial is not None and (isinstance(n_initial, bool) or n_initial < 1):
            raise ConfigError(
                f"scheduler {self.name!r}: n_initial must be an integer >= 1, got {n_initial!r}"
            )
        self.n_initial = n_initial

    def make_bracket(self) -> Bracket:
        k = self.top_rung
        n = self.n_initial or max(int(round(self.eta**k)), int(math.ceil(self.eta)))
        return Bracket(0, [int(n // self.eta**i) for i in range(k + 1)])


class Hyperband(BracketScheduler):
    """Hyperband (Li et al. 2018): successive-halving brackets that cycle from the most aggressive
    (all rungs, many cells) to plain full-fidelity evaluation of a few cells."""

    name = "hyperband"

    def __init__(self, eta: float = 3.0) -> None:
        super().__init__()
        self.eta = check_eta(self.name, eta)

    def make_bracket(self) -> Bracket:
        s_max = self.top_rung
        s = s_max - self.count % (s_max + 1)
        n = int(math.ceil((s_max + 1) / (s + 1) * self.eta**s))
        return Bracket(s_max - s, [int(n // self.eta**i) for i in range(s + 1)])


class TopK(BracketScheduler):
    """The baseline papers find hard to beat: evaluate ``n_low`` cells at the lowest fidelity,
    then train the best ``k`` of them at the full fidelity; repeat."""

    name = "top_k"

    def __init__(self, n_low: int = 64, k: int = 8) -> None:
        super().__init__()
        for what, v in (("n_low", n_low), ("k", k)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"scheduler {self.name!r}: {what} must be an integer >= 1, got {v!r}")
        if k > n_low:
            raise ConfigError(f"scheduler {self.name!r}: k ({k}) cannot exceed n_low ({n_low})")
        self.n_low, self.k = n_low, k

    def bind(self, fidelities: Sequence[float], maximize: bool) -> None:
        ladder = list(fidelities)
        super().bind(ladder[:1] + ladder[-1:] if len(ladder) > 1 else ladder, maximize)

    def make_bracket(self) -> Bracket:
        if self.top_rung == 0:
            return Bracket(0, [self.k])
        return Bracket(0, [self.n_low, self.k])
