"""A run's figures, for people who would rather look than read: each function takes tables or
arrays and returns a Figure; `png_bytes` renders one for the run record.

Per-run figures use fixed margins: tight_layout() draws a figure once more just to measure its
text, and rendering is most of what a run's figures cost.
"""

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display

import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import cycler  # noqa: E402
from scipy.special import log_softmax  # noqa: E402

from kerasce.model.numerics import reference_crossentropy  # noqa: E402

RUN_FIGURE_DPI = 80  # readable on screen; rendering time grows with the pixels

# Comparisons overlay many groups: 20 distinct colours, then dashed lines for the next 20.
MANY_LINES = cycler(linestyle=["-", "--"]) * cycler(color=plt.cm.tab20.colors)


def many_lines(axes):
    axes.set_prop_cycle(MANY_LINES)


def png_bytes(figure, dpi: int = RUN_FIGURE_DPI) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return buffer.getvalue()


def logit_views(logits: np.ndarray, labels: np.ndarray) -> dict:
    """What the intuition figures show of a head's logits, computed exactly in float64."""
    two_class = np.concatenate([np.zeros_like(logits), logits], axis=1) if logits.shape[1] == 1 else logits
    log_probabilities = log_softmax(two_class, axis=1)
    return {
        "logits": logits,
        "labels": labels,
        "log_probabilities": log_probabilities,
        "probabilities": np.exp(log_probabilities),
        "losses": reference_crossentropy(logits, labels),
    }


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
    figure.subplots_adjust(left=0.09, right=0.78, bottom=0.11, top=0.92)
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
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.09, top=0.94, hspace=0.08)
    return figure


def intuition_figures(before: dict, after: dict, class_names, shown_class: int, ln_c: float) -> dict:
    """The seed article's pictures, untrained (left) beside trained (right).

    `before` and `after` hold float64 arrays for the test split: `logits` (n, units),
    `probabilities` and `log_probabilities` (n, C), `losses` (n,), `labels` (n,).
    Returns {file name: Figure}.
    """
    name = class_names[shown_class]
    stages = (("untrained", before), ("trained", after))
    logits_figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=False)
    for axis, (stage, data) in zip(axes, stages, strict=True):
        many_lines(axis)
        chosen = data["logits"][data["labels"] == shown_class]
        bins = np.linspace(chosen.min(), chosen.max(), 25) if chosen.size else 10  # shared: bars line up
        for unit in range(chosen.shape[1]):
            unit_name = class_names[unit] if chosen.shape[1] > 1 else "logit"
            is_true = unit == shown_class or chosen.shape[1] == 1
            axis.hist(
                chosen[:, unit],
                bins=bins,
                histtype="stepfilled" if is_true else "step",
                alpha=0.5 if is_true else 1.0,
                linewidth=1.5,
                label=f"{unit_name} (true class)" if is_true and chosen.shape[1] > 1 else unit_name,
            )
        axis.set(title=f"{stage}", xlabel="raw output (logit) of each unit", ylabel="test samples")
    axes[1].legend(title="output unit", fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    logits_figure.suptitle(f"Logits for test samples of true class {name!r}")
    logits_figure.subplots_adjust(left=0.06, right=0.85, bottom=0.12, top=0.86, wspace=0.2)

    box_figure, grid = plt.subplots(2, 2, figsize=(11, 7))
    for column, (stage, data) in enumerate(stages):
        chosen = data["labels"] == shown_class
        for row, (key, label) in enumerate(
            (("probabilities", "softmax probability"), ("log_probabilities", "log-softmax value"))
        ):
            axis = grid[row, column]
            axis.boxplot(data[key][chosen], tick_labels=[str(c) for c in class_names])
            axis.set(title=f"{stage}: {label}", xlabel="output unit (class)", ylabel=label)
    box_figure.suptitle(f"Softmax and log-softmax per output unit, test samples of true class {name!r}")
    box_figure.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.9, hspace=0.4, wspace=0.2)

    loss_figure, axis = plt.subplots(figsize=(7, 4.5))
    upper = max(np.percentile(np.concatenate([before["losses"], after["losses"]]), 99), ln_c * 1.5)
    bins = np.linspace(0, upper, 40)
    for stage, data in stages:
        axis.hist(np.minimum(data["losses"], upper), bins=bins, alpha=0.5, label=stage)
    axis.axvline(ln_c, color="black", linestyle="--", label=f"ln C = {ln_c:.3f}")
    axis.set(
        title="Per-sample cross-entropy on the test split",
        xlabel="loss (exact, from the logits)",
        ylabel="test samples",
    )
    axis.legend()
    loss_figure.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.92)
    return {
        "intuition_logits.png": logits_figure,
        "intuition_softmax_boxes.png": box_figure,
        "intuition_losses.png": loss_figure,
    }
