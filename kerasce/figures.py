"""Figures for people who would rather look than read: each function takes tables, returns a Figure."""

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def pr_curve_figure(curve: pd.DataFrame, title: str, average_precision: dict | None = None):
    """Precision against recall, one line per class, AP in the legend where given."""
    figure, axes = plt.subplots(figsize=(7.5, 5))
    for class_name, rows in curve.groupby("class", sort=False):
        label = str(class_name)
        if average_precision and class_name in average_precision:
            label += f" (AP {average_precision[class_name]:.3f})"
        axes.step(rows["recall"], rows["precision"], where="post", label=label)
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=title)
    axes.grid(alpha=0.3)
    if len(curve):
        axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), title="class")
    figure.tight_layout()
    return figure


def reliability_figure(table: pd.DataFrame, title: str, ece: float | None = None):
    """Accuracy against confidence per bin, the diagonal of perfect calibration, bin counts below."""
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(6, 6), sharex=True, height_ratios=(3, 1))
    filled = table[table["count"] > 0]
    width = table["upper"] - table["lower"]
    top.bar(
        filled["lower"],
        filled["accuracy"],
        width=width[filled.index],
        align="edge",
        edgecolor="black",
        alpha=0.7,
        label="accuracy in bin",
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
    top.plot(
        filled["mean_confidence"], filled["accuracy"], "o", color="black", label="(mean confidence, accuracy)"
    )
    top.set(ylabel="accuracy", ylim=(0, 1), title=title + (f"  (ECE {ece:.3f})" if ece is not None else ""))
    top.legend(fontsize="small", loc="upper left")
    bottom.bar(table["lower"], table["count"], width=width, align="edge", edgecolor="black", alpha=0.7)
    bottom.set(xlabel="confidence (top-label probability)", ylabel="samples", xlim=(0, 1))
    figure.tight_layout()
    return figure
