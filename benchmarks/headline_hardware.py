"""The README headline's hardware-aware block, read from the stored ``latency_models_*`` sections
(``benchmarks/results/``).

Shares of the exact front, not ratios to another noisy search: per device family, the default latency
estimator's and LeDG-Former's rank agreement and budget-free front share with the whole die held
out, every target below the 95 % goal named; the few-shot Spearman ρ on HELP's meta-test devices;
and each search's share of the one-per-class ceiling by budget (NSGA-II, ``pareto_mutation`` and
``front_ehvi`` from the one run on the same seeds, section ``latency_models_search_front``, when the
store has it). ``benchmarks/headline.py`` calls
:func:`hardware_headline`.
"""

from __future__ import annotations

import numpy as np

from benchmarks.bench_latency_models import BLEND, SEARCH_GOAL, SHIPPED_FRONT_LABEL
from benchmarks.results import Section, Store

ZERO_SHOT = "latency_models_zero_shot"
FEW_SHOT = "latency_models_few_shot"
SEARCH = "latency_models_search"
GUIDED = "latency_models_search_guided"
PARETO_MUTATION = "latency_models_search_pareto_mutation"
FRONT = "latency_models_search_front"
FAMILIES = ("GPU", "CPU", "phone", "embedded", "ASIC", "FPGA")
#: the issue's goal for the budget-free predicted front
FRONT_GOAL = 0.95


def _triple(cell: str) -> tuple[float, float, float] | None:
    """``"τ / ρ / front"`` -> floats; ``—`` -> None."""
    parts = [p.strip() for p in cell.split("/")]
    if len(parts) != 3:
        return None
    return float(parts[0]), float(parts[1]), float(parts[2])


def _default_estimator(sec: Section) -> str:
    """The default latency model the zero-shot section was measured with (its ``default_estimator`` record)."""
    name = (sec.data or {}).get("default_estimator")
    if not isinstance(name, str):
        raise ValueError(f"section {ZERO_SHOT} does not record the default latency model")
    return name


def learned(default: str) -> list[str]:
    """The estimators the headline shows beside the default: the learned ones and ``geomean`` (the
    previous default), each with its τ wins where the section has them."""
    return [n for n in ("geomean", BLEND, "ledgformer") if n != default]


def zero_shot_rows(sec: Section) -> tuple[str, list[str]]:
    """(default estimator, the headline table's lines) from the zero-shot section."""
    rows = sec.table("target", "ledgformer")
    default = _default_estimator(sec)
    others = learned(default)
    wins_of = [n for n in (default, *others) if f"{n} τ > it" in (rows[0] if rows else {})]
    lines = [
        f"| family (targets) | `{default}` (default) τ | its front share | targets with front share < "
        f"{FRONT_GOAL:.2f} |"
        + "".join(f" `{n}` τ (targets scored) | its front share |" for n in others)
        + "".join(f" `{n}` τ > best model-free τ |" for n in wins_of),
        "|---|---|---|---|" + "---|---|" * len(others) + "---|" * len(wins_of),
    ]
    for family in FAMILIES:
        rs = [r for r in rows if r["family"] == family]
        if not rs:
            continue
        base = [_triple(r[default]) for r in rs]
        below = [f"{r['target']} {b[2]:.3f}" for r, b in zip(rs, base) if b is not None and b[2] < FRONT_GOAL]
        taus = [b[0] for b in base if b is not None]
        fronts = [b[2] for b in base if b is not None]
        line = f"| {family} ({len(rs)}) | {np.mean(taus):.3f} | {np.mean(fronts):.3f} | {', '.join(below) or 'none'} |"
        for name in others:
            scored = [t for r in rs if (t := _triple(r.get(name, "—"))) is not None]
            line += (
                f" {np.mean([t[0] for t in scored]):.3f} ({len(scored)}) | {np.mean([t[2] for t in scored]):.3f} |"
                if scored
                else " — (0) | — |"
            )
        for name in wins_of:
            scored = [r for r in rs if _triple(r.get(name, "—")) is not None]
            line += f" {sum(r[f'{name} τ > it'] == 'yes' for r in scored)} of {len(scored)} |"
        lines.append(line)
    return default, lines


def hardware_headline(store: Store) -> list[str]:
    """The README lines of the hardware-aware block."""
    zs = store.load(ZERO_SHOT)
    default, zs_lines = zero_shot_rows(zs)
    rows = zs.table("target", "ledgformer")
    reached = sum(1 for r in rows if (t := _triple(r[default])) is not None and t[2] >= FRONT_GOAL)
    out = [
        "",
        "Hardware-aware: latency on a **die never seen** (every card and batch size on the target's die held out; "
        f"all 27 HELP targets), the default estimator `{default}` beside "
        + " and ".join(f"`{n}`" for n in learned(default))
        + "; τ: Kendall τ of predicted "
        "vs measured latency; front share: the front of all cells under the predicted latency, re-scored with "
        "the measured one, as a share of the exact front's hypervolume (section "
        f"`{ZERO_SHOT}`; goal ≥ {FRONT_GOAL:.2f} on every target: met on {reached} of {len(rows)}):",
        "",
        *zs_lines,
    ]
    meta = store.load(FEW_SHOT).titled_table("Mean Spearman ρ over HELP's six meta-test devices")
    estimator = "estimator" in (meta[0] if meta else {})
    out += [
        "",
        "Few-shot latency (k cells measured on the target, the `combination` estimator): mean Spearman ρ over "
        f"HELP's six meta-test devices, 10 draws [95 % CI] (HELP reports 0.932 at k = 10; section `{FEW_SHOT}`):",
        "",
        "| k |" + (" settings |" if estimator else "") + " training settings | mean ρ [95 % CI] | ≥ 0.95 |",
        "|---|" + ("---|" if estimator else "") + "---|---|---|",
    ]
    out += [
        f"| {r['k']} |"
        + (f" {r['estimator']} |" if estimator else "")
        + f" {r['training settings']} | {r['mean [95 % CI]']} | {r['≥ 0.95']} |"
        for r in meta
    ]
    # one run with every arm on the same fresh seeds when there is one; else the older per-optimizer sections
    runs = [(None, FRONT)] if FRONT in store else [("NSGA-II", SEARCH)]
    if FRONT not in store and PARETO_MUTATION in store:
        runs.append(("`pareto_mutation`", PARETO_MUTATION))
    searched = sorted(
        {
            r["latency searched"].split(" (")[0]
            for _, key in runs
            for r in store.load(key).table("target", "budget reaching 90 %")
            if "zero-shot" in r["latency searched"]
        }
    )
    out += [
        "",
        f"Search against the exact front, on the zero-shot latency of {', '.join(searched)} (the estimator the "
        "searches ran on): hypervolume under the measured "
        "latency as a share of the one-per-class ceiling [95 % CI over seeds] (goal: ≥ 0.90 at 100 queries; "
        "sections " + ", ".join(f"`{key}`" for _, key in runs) + "):",
        "",
        "| target | optimizer | 100 queries | 200 queries | 500 queries | budget reaching 90 % |",
        "|---|---|---|---|---|---|",
    ]
    by_target: dict[str, list[str]] = {}
    shares: dict[str, float] = {}  # the shipped front_ehvi's mean share at 100 queries, per target
    for label, key in runs:
        for r in store.load(key).table("target", "budget reaching 90 %"):
            if "zero-shot" in r["latency searched"]:
                if r["optimizer"] == SHIPPED_FRONT_LABEL:
                    shares[r["target"]] = float(r["100 queries"].split(" ")[0])
                by_target.setdefault(r["target"], []).append(
                    f"| {r['target']} | {label or r['optimizer']} | {r['100 queries']} | {r['200 queries']} | "
                    f"{r['500 queries']} | {r['budget reaching 90 %']} |"
                )
    out += [line for lines in by_target.values() for line in lines]
    if shares:
        met = [t for t, v in shares.items() if v >= SEARCH_GOAL]
        out += [
            "",
            f"The shipped `front_ehvi` at 100 queries against the {SEARCH_GOAL:.2f} goal: met on {len(met)} of "
            f"{len(shares)} targets; "
            + "; ".join(
                f"{t} {v:.3f} ({'met' if v >= SEARCH_GOAL else f'missed by {SEARCH_GOAL - v:.3f}'})"
                for t, v in shares.items()
            )
            + ".",
        ]
    if GUIDED in store:
        guided = store.load(GUIDED).table("target", "100 queries")
        out += [
            "",
            f"The surrogate-guided `predictor_evolution` at 100 queries, same share, {guided[0]['seeds']} seed(s) "
            f"(section `{GUIDED}`): "
            + "; ".join(f"{r['target']} {r['100 queries'].split(' [')[0]}" for r in guided)
            + ".",
        ]
    return out
