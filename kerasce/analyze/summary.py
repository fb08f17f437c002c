"""The answer a comparison gives, before any table: for each wiring in each setting, the loss path
it took and whether it differs from its reference on the same seeds, by the tolerance rule of
analyze/tolerance.py. One summary, three renderings: the terminal (lines within TERMINAL_WIDTH),
Markdown, and the HTML page (analyze/page.py).
"""

import math
import textwrap
from typing import NamedTuple

import pandas as pd

from kerasce.analyze.paired import (
    DATASET_KEY,
    PAIR_KEY,
    TWIN,
    difference_verdict,
    facet_keys,
    metric_has_pairs,
    one_sided_note,
    reference_of,
    shown_difference,
    varying_keys,
)
from kerasce.analyze.tolerance import RELATIVE_TOLERANCE, Difference

TERMINAL_WIDTH = 100
REFERENCE = "reference"  # the verdict of a wiring the others are compared against
UNPAIRED = "no reference run"  # a wiring whose reference was not run beside it
NON_FINITE = "NaN/Inf events"  # in the answer: the wirings with runs that met non-finite batches
# metric names by the direction that is better, for "worse"/"better" beside an effect
LOWER_IS_BETTER = ("loss", "ece", "brier", "nan_event")
HIGHER_IS_BETTER = ("accuracy", "average_precision", "f1", "auc")
SUMMARY_INTRO = (
    "each wiring minus its reference, trained on the same seeds (same split and initial weights): "
    "the mean difference and its 95% interval."
)
TOLERANCE_RULE = (
    f"identical: every pair's difference is exactly 0; ≈ 0 (float rounding): every |difference| is at "
    f"most {RELATIVE_TOLERANCE:g} × the metric's scale (the larger of the reference's seed spread and "
    "magnitude); otherwise differs when the 95% interval excludes 0, no detectable difference when it "
    "includes 0; a pair finite on one side only (an infinite loss beside a finite one) differs too. "
    "A wiring differs when any metric does."
)


NO_PAIRS = (
    "Summary: no pairs to compare (no wiring ran beside its reference on the same seeds, "
    "or formulation is not a group key)."
)


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


class Effect(NamedTuple):
    """One metric's difference from the reference, as shown under a wiring's verdict."""

    metric: str
    verdict: Difference
    text: str  # '+0.012 [+0.004, +0.020]', or one pair's value
    direction: str  # 'worse', 'better' or '' (unknown, or not a detectable difference)


def direction(metric: str, mean: float) -> str:
    if any(word in metric for word in LOWER_IS_BETTER):
        return "worse" if mean > 0 else "better"
    if any(word in metric for word in HIGHER_IS_BETTER):
        return "better" if mean > 0 else "worse"
    return ""


def effect(row, metric: str, verdict: Difference) -> Effect:
    """A metric's difference as shown under a verdict; 'worse'/'better' beside one that differs,
    unless a pair finite on one side only leaves the direction to the reader."""
    mean = row[f"{metric}_diff_mean"]
    known = verdict == Difference.DIFFERS and math.isfinite(mean) and not one_sided_note(row, metric)
    return Effect(metric, verdict, shown_difference(row, metric), direction(metric, mean) if known else "")


def overall(row, metrics: list[str]) -> tuple[str, tuple[Effect, ...]]:
    """A wiring's verdict over every metric, and the effects shown under it: the first metric
    (the headline, test_loss by default) unless it is zero, then every other metric that differs;
    under a verdict of float rounding, one line naming the metrics within rounding."""
    verdicts = {m: difference_verdict(row, m) for m in metrics if metric_has_pairs(row, m)}
    if not verdicts:
        return Difference.TOO_FEW, ()
    if all(v == Difference.IDENTICAL for v in verdicts.values()):
        return Difference.IDENTICAL, ()
    if all(v.is_zero for v in verdicts.values()):
        return Difference.ROUNDING, (rounding_effect(row, verdicts),)
    headline = next(iter(verdicts))
    shown = [m for m, v in verdicts.items() if v == Difference.DIFFERS or (m == headline and not v.is_zero)]
    effects = tuple(effect(row, m, verdicts[m]) for m in shown)
    if any(v == Difference.DIFFERS for v in verdicts.values()):
        return Difference.DIFFERS, effects
    if Difference.NOT_DETECTED in verdicts.values():
        return Difference.NOT_DETECTED, effects or (
            effect(row, first_nonzero(verdicts), Difference.NOT_DETECTED),
        )
    return Difference.TOO_FEW, effects or (effect(row, first_nonzero(verdicts), Difference.TOO_FEW),)


def first_nonzero(verdicts: dict) -> str:
    return next(m for m, v in verdicts.items() if not v.is_zero)


def rounding_effect(row, verdicts: dict) -> Effect:
    """'test_ece, test_brier' within '|Δ| ≤ 1e-09': the metrics that are not exactly identical."""
    rounded_metrics = [m for m, v in verdicts.items() if v == Difference.ROUNDING]
    largest = max(row.get(f"{m}_diff_max_abs", float("nan")) for m in rounded_metrics)
    bound = f"|Δ| ≤ {largest:.1g}" if largest == largest else ""
    return Effect(", ".join(rounded_metrics), Difference.ROUNDING, bound, "")


def summarize(
    table: pd.DataFrame, paired: pd.DataFrame, group_keys: list[str], metrics: list[str], reference=TWIN
):
    """One row per group of the aggregate: its keys, loss_path, reference, n_pairs, verdict and
    effects (a tuple of Effect); references first within each setting. A wiring is a reference
    when others were paired with it or when it is its own reference (logits_ce for "twin")."""
    references = set(paired["reference"]) if "reference" in paired else set()
    by_group = {tuple(str(r[k]) for k in group_keys): r for _, r in paired.iterrows()}
    rows = []
    for _, group in table.iterrows():
        row = {k: group[k] for k in group_keys}
        row["loss_path"] = group["loss_path"]
        row["non_finite"] = non_finite_note(group["nan_rate"], group["n_runs"])
        partner = by_group.get(tuple(str(group[k]) for k in group_keys))
        formulation = str(group.get(PAIR_KEY, ""))
        if partner is not None:
            verdict, effects = overall(partner, metrics)
            row.update(reference=partner["reference"], n_pairs=int(partner["n_pairs"]))
        else:
            is_reference = formulation in references or reference_of(formulation, reference) == formulation
            verdict, effects = (REFERENCE if is_reference else UNPAIRED), ()
            row.update(reference="", n_pairs=0)
        row.update(verdict=str(verdict), effects=effects)
        rows.append(row)
    frame = pd.DataFrame(
        rows, columns=[*group_keys, "loss_path", "non_finite", "reference", "n_pairs", "verdict", "effects"]
    )
    return order_rows(frame, group_keys)


def non_finite_note(nan_rate: float, n_runs: int) -> str:
    """'NaN/Inf events in 1 of 3 runs' (runs with non-finite batches), or '' when none had any.
    Said beside any verdict: a wiring can match its reference on average and still break."""
    count = round(nan_rate * n_runs)
    return f"{NON_FINITE} in {count} of {n_runs} runs" if count else ""


def order_rows(frame: pd.DataFrame, group_keys: list[str]) -> pd.DataFrame:
    """Dataset, then setting, then references before the wirings compared with them."""
    keys = [k for k in (DATASET_KEY, *facet_keys(group_keys)) if k in frame]
    is_reference = frame["verdict"] != REFERENCE
    ordered = frame.assign(_rank=is_reference).sort_values([*keys, "_rank"], kind="stable")
    return ordered.drop(columns="_rank").reset_index(drop=True)


def has_pairs(summary: pd.DataFrame) -> bool:
    return bool(len(summary)) and bool((summary["n_pairs"] > 0).any())


def sections(summary: pd.DataFrame, group_keys: list[str]):
    """(heading, rows) per dataset and setting, in the summary's order; a setting is named by the
    keys that vary within its dataset ('digits · precision = float32')."""
    by_dataset = summary.groupby(DATASET_KEY, sort=False) if DATASET_KEY in summary else [(None, summary)]
    for dataset, in_dataset in by_dataset:
        keys = varying_keys(in_dataset, facet_keys(group_keys))
        if not keys:
            yield ("all runs" if dataset is None else str(dataset)), in_dataset
            continue
        for values, rows in in_dataset.groupby(keys, sort=False, dropna=False):
            values = values if isinstance(values, tuple) else (values,)
            parts = [] if dataset is None else [str(dataset)]
            parts += [f"{k} = {v}" for k, v in zip(keys, values, strict=True)]
            yield " · ".join(parts), rows


VERDICT_ORDER = [
    Difference.DIFFERS,
    Difference.NOT_DETECTED,
    Difference.TOO_FEW,
    Difference.ROUNDING,
    Difference.IDENTICAL,
    UNPAIRED,
]


def answer(summary: pd.DataFrame, group_keys: list[str]) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """The summary at a glance: per dataset and setting, the wirings with NaN/Inf events (references
    included), then (verdict, wirings) from the strongest verdict (differs) to the weakest
    (identical), references left out."""
    found = []
    for heading, rows in sections(summary, group_keys):
        compared = rows[rows["verdict"] != REFERENCE]
        verdicts = [(NON_FINITE, [wiring(r) for _, r in rows.iterrows() if r["non_finite"]])]
        verdicts += [
            (str(verdict), [wiring(r) for _, r in compared[compared["verdict"] == verdict].iterrows()])
            for verdict in VERDICT_ORDER
        ]
        found.append((heading, [(v, names) for v, names in verdicts if names]))
    return found


def answer_lines(summary: pd.DataFrame, group_keys: list[str]) -> list[str]:
    """'digits · precision = float32 — ≈ 0 (float rounding): softmax_ce, ...; identical: ...'."""
    return [
        f"{heading} — " + "; ".join(f"{verdict}: {', '.join(names)}" for verdict, names in verdicts)
        for heading, verdicts in answer(summary, group_keys)
        if verdicts
    ]


def wiring(row) -> str:
    return str(row.get(PAIR_KEY, "all runs"))


def effect_line(item: Effect) -> str:
    """'test_brier +0.0018 [+0.0001, +0.0036] worse', or the metrics within float rounding."""
    if item.verdict == Difference.ROUNDING:
        return f"within float rounding ({item.text}): {item.metric}; every other metric identical"
    return " ".join(part for part in (item.metric, item.text, item.direction) if part)


def terminal_summary(summary: pd.DataFrame, group_keys: list[str]) -> str:
    """The summary as plain text, no line longer than TERMINAL_WIDTH (long names are not cut:
    the columns fit the names there are)."""
    if not has_pairs(summary):
        return NO_PAIRS
    lines = ["In short:"]
    for line in answer_lines(summary, group_keys):
        lines += textwrap.wrap(line, TERMINAL_WIDTH, initial_indent="  ", subsequent_indent="      ")
    lines += ["", *textwrap.wrap("Summary: " + SUMMARY_INTRO, TERMINAL_WIDTH)]
    lines += textwrap.wrap(TOLERANCE_RULE, TERMINAL_WIDTH)
    name_width = max([len(wiring(r)) for _, r in summary.iterrows()] + [6])
    path_width = max([len(str(p)) for p in summary["loss_path"]] + [9])
    metric_width = max(
        [len(e.metric) for effects in summary["effects"] for e in effects if e.verdict != Difference.ROUNDING]
        + [6]
    )
    for heading, rows in sections(summary, group_keys):
        lines += ["", *textwrap.wrap(heading, TERMINAL_WIDTH, subsequent_indent="    ")]
        lines.append(f"  {'wiring':<{name_width}}  {'loss path':<{path_width}}  verdict")
        for _, row in rows.iterrows():
            against = f" vs {row['reference']} (n={row['n_pairs']})" if row["reference"] else ""
            verdict = f"{row['verdict']}{against}"
            line = f"  {wiring(row):<{name_width}}  {row['loss_path']:<{path_width}}  {verdict}"
            if len(line) > TERMINAL_WIDTH:  # long names: the verdict goes on a line of its own
                line = f"  {wiring(row):<{name_width}}  {row['loss_path']}\n      {verdict}"
            lines.append(line)
            if row["non_finite"]:
                lines.append(f"      {row['non_finite']}")
            for item in row["effects"]:
                if item.verdict == Difference.ROUNDING:
                    lines += textwrap.wrap(
                        effect_line(item), TERMINAL_WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 8
                    )
                    continue
                tail = f"  {item.direction}" if item.direction else ""
                lines.append(f"      {item.metric:<{metric_width}}  {item.text}{tail}")
    return "\n".join(lines)


def markdown_differences(row) -> str:
    """A row's NaN/Inf note (bold) and effects in one Markdown table cell: '|' escaped (as in
    '|Δ|'), lines joined by line breaks."""
    lines = [f"**{row['non_finite']}**"] if row["non_finite"] else []
    lines += [effect_line(item) for item in row["effects"]]
    return "<br>".join(line.replace("|", "\\|") for line in lines)


def markdown_summary(summary: pd.DataFrame, group_keys: list[str]) -> str:
    """The summary as Markdown: a table per dataset and setting, a differing verdict in bold."""
    if not has_pairs(summary):
        return "\n".join(["## Summary", "", NO_PAIRS.removeprefix("Summary: ")])
    parts = ["## Summary", "", *[f"- {line}" for line in answer_lines(summary, group_keys)]]
    parts += ["", sentence(SUMMARY_INTRO), "", sentence(TOLERANCE_RULE)]
    for heading, rows in sections(summary, group_keys):
        shown = pd.DataFrame(
            {
                "wiring": [wiring(r) for _, r in rows.iterrows()],
                "loss path": rows["loss_path"].tolist(),
                "against": [r or "" for r in rows["reference"]],
                "pairs": [n or "" for n in rows["n_pairs"]],
                "verdict": [f"**{v}**" if v == Difference.DIFFERS else v for v in rows["verdict"]],
                "differences": [markdown_differences(r) for _, r in rows.iterrows()],
            }
        )
        parts += ["", f"### {heading}", "", shown.to_markdown(index=False)]
    return "\n".join(parts)
