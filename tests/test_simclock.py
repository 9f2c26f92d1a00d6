"""The simulated clock returns jobs in the order W real workers would, at the right times."""

from __future__ import annotations

import pytest

from nasearch.evaluation.simclock import SimulatedClock


def test_two_workers_return_by_finish_time_not_submission():
    clock: SimulatedClock[str] = SimulatedClock(2)
    assert clock.submit("a", 5.0) == 5.0
    assert clock.submit("b", 3.0) == 3.0
    assert clock.free() == 0
    assert clock.pop() == (3.0, 0.0, "b")  # b finishes first although submitted second
    assert clock.now == 3.0
    assert clock.submit("c", 1.0) == 4.0  # starts when b's worker frees, at t=3
    assert clock.pop() == (4.0, 3.0, "c")
    assert clock.pop() == (5.0, 0.0, "a")
    assert clock.now == 5.0 and clock.running == 0
    assert clock.busy_seconds == 9.0


def test_one_worker_is_sequential():
    clock: SimulatedClock[int] = SimulatedClock(1)
    finishes = []
    for i, cost in enumerate([2.0, 7.0, 1.0]):
        clock.submit(i, cost)
        finishes.append(clock.pop()[0])
    assert finishes == [2.0, 9.0, 10.0]


def test_ties_return_in_submission_order_and_zero_cost_is_allowed():
    clock: SimulatedClock[str] = SimulatedClock(3)
    for name in ("x", "y", "z"):
        clock.submit(name, 4.0 if name != "z" else 0.0)
    assert [job for _, _, job in clock.drain()] == ["z", "x", "y"]


def test_four_workers_hand_built_sequence():
    """Costs 10, 4, 6, 8 on 4 workers; each freed worker starts the next of e (3), f (3), g (1)."""
    clock: SimulatedClock[str] = SimulatedClock(4)
    for name, cost in (("a", 10), ("b", 4), ("c", 6), ("d", 8)):
        clock.submit(name, cost)
    more = iter([("e", 3.0), ("f", 3.0), ("g", 1.0)])
    order = []
    while clock.running:
        t, start, job = clock.pop()
        order.append((job, start, t))
        nxt = next(more, None)
        if nxt:
            clock.submit(*nxt)
    # g starts at 7 (e's worker) and ties d at 8: d, submitted first, returns first
    assert order == [
        ("b", 0, 4),
        ("c", 0, 6),
        ("e", 4, 7),
        ("d", 0, 8),
        ("g", 7, 8),
        ("f", 6, 9),
        ("a", 0, 10),
    ]


def test_misuse_is_refused():
    with pytest.raises(ValueError, match="worker"):
        SimulatedClock(0)
    clock: SimulatedClock[str] = SimulatedClock(1)
    with pytest.raises(ValueError, match="cost"):
        clock.submit("a", -1.0)
    clock.submit("a", 1.0)
    with pytest.raises(RuntimeError, match="free"):
        clock.submit("b", 1.0)
    clock.pop()
    with pytest.raises(RuntimeError, match="running"):
        clock.pop()
