"""Comparison figures: groups of runs overlaid, one line per group (mean over seeds)."""

import matplotlib.pyplot as plt

from kerasce.evaluate.figures import many_lines  # also selects the file-only Agg backend


def overlaid_pr_figure(recall, precision_by_group: dict, title: str):
    """Mean precision-recall curve of each group (averaged over classes and seeds), overlaid."""
    figure, axes = plt.subplots(figsize=(8, 5))
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
    figure, axes = plt.subplots(figsize=(8, 5))
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
    figure, axes = plt.subplots(figsize=(8, 5))
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
