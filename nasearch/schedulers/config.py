"""The ``scheduler:`` block of a run YAML: ``{name, fidelities, ...constructor options}``, checked
against the scheduler registry like the other blocks, one clear error per mistake; and building
the scheduler of a run from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nasearch.api.errors import ConfigError
from nasearch.config.blocks import Block, parse_block
from nasearch.config.loader import Source
from nasearch.config.options import accepted_options
from nasearch.config.registry import SCHEDULERS

#: keys of a scheduler block that the loop reads itself (not constructor options): the fidelity
#: ladder, and whether to stop once the benchmark's optimum is trained at full fidelity (benchmarks)
LOOP_KEYS = ("fidelities", "stop_at_optimum")


def scheduler_block(raw: object, key: str, source: Source) -> Block:
    """Validate a scheduler block; ``fidelities`` (ascending epochs, a subset of the evaluator's, or a
    ``{min, max}`` range the scheduler takes its rungs from) is kept in the block's options and checked
    against the evaluator when the run starts."""
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source.where(key)}: expected a mapping with 'name' (a scheduler), got {raw!r}")
    rest = dict(raw)
    loop = {k: rest.pop(k) for k in LOOP_KEYS if k in rest}
    if isinstance(rest.get("options"), Mapping):
        rest["options"] = dict(rest["options"])
        loop.update({k: rest["options"].pop(k) for k in LOOP_KEYS if k in rest["options"]})
    block = parse_block(rest, key, source, "schedulers")
    if "fidelities" in loop:
        block.options["fidelities"] = check_fidelities(loop["fidelities"], f"{key}.fidelities", source)
    if "stop_at_optimum" in loop:
        if not isinstance(loop["stop_at_optimum"], bool):
            raise ConfigError(
                f"{source.where(key + '.stop_at_optimum')}: expected true or false, "
                f"got {loop['stop_at_optimum']!r}"
            )
        block.options["stop_at_optimum"] = loop["stop_at_optimum"]
    return block


def check_fidelities(value: Any, key: str, source: Source) -> list[float] | dict[str, float]:
    """A list of at least one positive number of epochs, strictly ascending, or a range (``check_range``)."""
    if isinstance(value, Mapping):
        return check_range(value, key, source)
    ok = (
        isinstance(value, list)
        and value
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value)
    )
    if not ok:
        raise ConfigError(
            f"{source.where(key)}: expected a list of positive epoch counts, e.g. [12, 200], or a range "
            f"{{min: M, max: N}}, got {value!r}"
        )
    if any(b <= a for a, b in zip(value, value[1:])):
        raise ConfigError(f"{source.where(key)}: fidelities must be strictly ascending, got {value!r}")
    return [float(v) for v in value]


def check_range(value: Mapping[Any, Any], key: str, source: Source) -> dict[str, float]:
    """A range of whole epochs ``{min: M, max: N}`` (``max`` optional: the evaluator's full fidelity),
    1 <= M < N: the scheduler takes its rungs from it with its reduction factor (``rungs``), as from an
    evaluator that offers a range; one error line naming what is wrong."""
    low, high = value.get("min"), value.get("max")
    unknown = sorted(str(k) for k in value if k not in ("min", "max"))
    problem = ""
    if unknown:
        problem = f"unknown key(s) {', '.join(unknown)}"
    elif type(low) is not int or (high is not None and type(high) is not int):  # not bool, nor 1.5
        problem = "min and max must be whole epochs"
    elif low < 1 or (high is not None and low >= high):
        problem = "min must be >= 1 and below max"
    if problem or not isinstance(low, int):
        raise ConfigError(
            f"{source.where(key)}: a range of epochs is {{min: M, max: N}} (whole epochs, 1 <= M < N; max "
            f"defaults to the evaluator's full fidelity); {problem}, got {dict(value)!r}"
        )
    return {"min": float(low), **({"max": float(high)} if isinstance(high, int) else {})}


def rungs(low: float, high: float, eta: float | None) -> list[float]:
    """The rungs a scheduler takes from a range of whole epochs: the full one, then 1/eta of it, 1/eta^2
    ... (rounded to whole epochs) while not below ``low``, ascending; ``[low, high]`` without an eta or
    when the range is narrower than one reduction. E.g. eta 3 over 1-9 epochs: 1, 3, 9; 1-12: 1, 4, 12;
    3-12: 4, 12; 2-200: 2, 7, 22, 67, 200; 1-2: 1, 2."""
    if eta is None or not eta > 1:
        return [float(low), float(high)]
    out = {float(high)}
    k = 1
    while high / eta**k >= low:
        out.add(float(max(round(high / eta**k), low)))
        k += 1
    if len(out) == 1:  # a range narrower than one reduction: its two ends
        out.add(float(low))
    return sorted(out)


def build_scheduler(
    block: Block,
    space: object,
    seed: int,
    offered: Sequence[float],
    maximize: bool,
    where: str,
    span: tuple[float, float] | None = None,
) -> Any:
    """The scheduler of ``block``, bound to its fidelity ladder: the config's list, else the rungs
    derived (``rungs``, with the scheduler's ``eta``) from the config's ``{min, max}`` range (``max``
    defaulting to the full fidelity offered) or from the evaluator's range ``span``, else all ``offered``."""
    options = {k: v for k, v in block.options.items() if k not in LOOP_KEYS}
    named, _ = accepted_options(SCHEDULERS.get(block.name))
    for supplied, value in (("space", space), ("seed", seed)):
        if supplied in named:
            options[supplied] = value
    scheduler = SCHEDULERS.create(block.name, **options)
    eta = getattr(scheduler, "eta", None)
    asked = block.options.get("fidelities")
    if isinstance(asked, Mapping):  # a range in the block: its rungs (over the evaluator's range, if any)
        if not offered:
            raise ConfigError(
                f"{where}: the evaluator offers no fidelities; a range {dict(asked)!r} requested"
            )
        low, high = float(asked["min"]), float(asked.get("max", offered[-1]))
        if low >= high:
            raise ConfigError(
                f"{where}: fidelities {{min: {low:g}}} must be below the full fidelity ({high:g} epochs)"
            )
        asked = rungs(low, high, eta)
    derived = rungs(span[0], span[1], eta) if span is not None else None
    ladder = list(asked or derived or offered)
    missing = [f for f in ladder if f not in offered]
    if missing or not ladder:
        raise ConfigError(
            f"{where}: the evaluator offers fidelities {', '.join(f'{f:g}' for f in offered) or 'none'}; "
            f"{', '.join(f'{f:g}' for f in missing) or 'none'} requested"
        )
    if ladder[-1] != offered[-1]:
        raise ConfigError(
            f"{where}: the fidelities must end at the full one ({offered[-1]:g} epochs), "
            f"got {', '.join(f'{f:g}' for f in ladder)}"
        )
    scheduler.bind(ladder, maximize)
    return scheduler
