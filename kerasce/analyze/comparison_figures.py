"""Comparison figures: groups of runs overlaid, one line per group (mean over seeds), and each
wiring's curves minus its reference's. Built as Matplotlib Figures, without pyplot: no global state."""

import textwrap

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kerasce.analyze.tolerance import Difference
from kerasce.evaluate.run_figures import many_lines


def overlaid_pr_figure(recall, precision_by_group: dict, title: str):
    """Mean precision-recall curve of each group (averaged over classes and seeds), overlaid."""
    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    many_lines(axes)
    for label, precision in precision_by_group.items():
        axes.plot(recall, precision, label=label)
    axes.set(
        xlabel="recall",
        ylabel="interpolated precision (mean over classes and seeds)",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=title,
    )
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    return figure


def overlaid_reliability_figure(tables_by_group: dict, title: str):
    """Accuracy against confidence of each group (bins pooled over seeds), overlaid."""
    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    many_lines(axes)
    axes.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
    for label, table in tables_by_group.items():
        if table is not None:
            axes.plot(table["mean_confidence"], table["accuracy"], marker="o", markersize=3, label=label)
    axes.set(
        xlabel="confidence (top-label probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title=title
    )
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    return figure


def loss_band_figure(histories_by_group: dict, metric: str, title: str):
    """Loss per epoch of each group: the mean over seeds with a band of one standard deviation."""
    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    many_lines(axes)
    for label, history in histories_by_group.items():
        line = axes.plot(history["epoch"], history["mean"], label=label)[0]
        spread = history["std"].fillna(0)
        axes.fill_between(
            history["epoch"],
            history["mean"] - spread,
            history["mean"] + spread,
            color=line.get_color(),
            alpha=0.15,
        )
    axes.set(xlabel="epoch", ylabel=f"{metric} (mean ± std over seeds)", title=title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    return figure


ZERO_ORDER = [Difference.IDENTICAL, Difference.ROUNDING]
DIFFERENCE_AXES = {  # kind -> (x label, y label, panel title)
    "loss": ("epoch", "Δ val_loss (wiring − reference)", "validation loss"),
    "precision": ("recall", "Δ interpolated precision", "precision-recall, test split"),
}


def difference_figure(settings: dict, title: str):
    """One row of panels per setting (the grid keys other than dataset and wiring), a column per
    curve (loss per epoch, precision per recall): each wiring's mean difference from its reference
    over seeds, with its 95% interval as a band. Wirings whose curves equal their reference's
    (identical, or within the rounding tolerance) are listed in the panel's title instead of
    drawn; wirings with the very same difference curve share one line; a setting where every
    wiring equals its reference gets no row, only a line under the panels.

    `settings`: {((key, value), ...): {kind: [CurveDifference]}} (analyze/differences.py)."""
    kinds = list(DIFFERENCE_AXES)
    drawn = {s: p for s, p in settings.items() if any(d.zero is None for ds in p.values() for d in ds)}
    footer = [zero_setting_line(s, p) for s, p in settings.items() if s not in drawn]
    footer_inches = 0.25 * sum(line.count("\n") + 1 for line in footer) + (0.2 if footer else 0)
    height = 0.7 + 3.6 * len(drawn) + footer_inches
    names = sorted({d.formulation for panels in settings.values() for ds in panels.values() for d in ds})
    colours = dict(zip(names, colormaps["tab10"].colors * (len(names) // 10 + 1), strict=False))
    figure = Figure(figsize=(12, height))
    axes = figure.subplots(len(drawn), len(kinds), squeeze=False) if drawn else np.empty((0, len(kinds)))
    for row, (setting, panels) in zip(axes, drawn.items(), strict=True):
        label = setting_label(setting)
        for axis, kind in zip(row, kinds, strict=True):
            draw_difference_panel(axis, panels.get(kind, []), colours, kind, label)
    figure.suptitle(title)
    if footer:
        figure.text(0.01, 0.1 / height, "\n".join(footer), va="bottom", fontsize="small")
    if drawn:
        figure.tight_layout(rect=(0, footer_inches / height, 1, 1))
    return figure


def setting_label(setting) -> str:
    return ", ".join(f"{key} = {value}" for key, value in setting) or "every run"


def zero_setting_line(setting, panels: dict) -> str:
    """'precision = float32: every wiring has its reference's curves (identical: a, b; ≈ 0 ...: c)'."""
    classes: dict = {}
    for differences in panels.values():
        for d in differences:  # the weaker class of the two curves: rounding over identical
            classes[d.formulation] = max(classes.get(d.formulation, d.zero), d.zero, key=ZERO_ORDER.index)
    listed = "; ".join(
        f"{zero}: {', '.join(sorted(n for n, c in classes.items() if c == zero))}"
        for zero in ZERO_ORDER
        if zero in classes.values()
    )
    return textwrap.fill(f"{setting_label(setting)}: every wiring has its reference's curves ({listed})", 150)


def same_curves(differences: list) -> list[list]:
    """The drawn differences in groups whose mean curves are equal (NaN where NaN)."""
    groups: list[list] = []
    for difference in differences:
        for group in groups:
            first = group[0]
            if np.array_equal(first.x, difference.x) and np.array_equal(
                first.mean, difference.mean, equal_nan=True
            ):
                group.append(difference)
                break
        else:
            groups.append([difference])
    return groups


def draw_difference_panel(axis, differences: list, colours: dict, kind: str, setting_label: str):
    xlabel, ylabel, what = DIFFERENCE_AXES[kind]
    listed = [
        f"not drawn, {zero}: {', '.join(d.formulation for d in differences if d.zero == zero)}"
        for zero in dict.fromkeys(d.zero for d in differences if d.zero is not None)
    ]
    one_sided = [f"{d.formulation} ({d.one_sided} of {d.n_pairs} pairs)" for d in differences if d.one_sided]
    if one_sided:
        listed.append("left out where finite on one side only: " + ", ".join(one_sided))
    title = "\n".join([f"{what}: {setting_label}", *(textwrap.fill(line, 75) for line in listed)])
    axis.set_title(title, fontsize="medium" if not listed else "small", loc="left")
    drawn = [d for d in differences if d.zero is None]
    if not drawn:
        axis.set_axis_off()
        axis.text(0.5, 0.5, "every wiring has its reference's curve", ha="center", transform=axis.transAxes)
        return
    axis.axhline(0, color="black", linewidth=0.8, label="_zero")
    for group in same_curves(drawn):
        first = group[0]
        colour = colours[first.formulation]
        axis.plot(first.x, first.mean, color=colour, label=" = ".join(sorted(d.formulation for d in group)))
        axis.fill_between(first.x, first.low, first.high, color=colour, alpha=0.2)
    axis.set(xlabel=xlabel, ylabel=ylabel)
    if kind == "loss":
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small", loc="best")
