"""A run's figures, for people who would rather look than read: each function takes tables or
arrays and returns a Figure; `png_bytes` renders one for the run record.

Per-run figures use fixed margins: tight_layout() draws a figure once more just to measure its
text, and rendering is most of what a run's figures cost.
"""

import functools
import io

import numpy as np
import pandas as pd
from matplotlib import colormaps, cycler
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.special import log_softmax

from kerasce.model.numerics import reference_crossentropy

RUN_FIGURE_DPI = 80  # readable on screen; rendering time grows with the pixels

# Comparisons overlay many groups: 20 distinct colours, then dashed lines for the next 20.
MANY_LINES = cycler(linestyle=["-", "--"]) * cycler(color=colormaps["tab20"].colors)


def many_lines(axes):
    axes.set_prop_cycle(MANY_LINES)


def png_bytes(figure, dpi: int = RUN_FIGURE_DPI) -> bytes:
    """The figure as PNG bytes (Matplotlib's Agg renderer: no display, no pyplot state)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
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
    figure = pr_curve_frame()
    draw_pr_curve(figure, curve, title, average_precision)
    return figure


def pr_curve_frame(dpi: float | None = None):
    """What every PR figure shares: the axes, their fixed limits, labels and grid."""
    figure = Figure(figsize=(7.5, 5), dpi=dpi)
    axes = figure.subplots()
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    axes.grid(alpha=0.3)
    figure.subplots_adjust(left=0.09, right=0.78, bottom=0.11, top=0.92)
    return figure


def draw_pr_curve(figure, curve: pd.DataFrame, title: str, average_precision: dict | None = None):
    """One run's part of a PR figure: its lines, title and legend."""
    (axes,) = figure.axes
    for class_name, rows in curve.groupby("class", sort=False):
        label = str(class_name)
        if average_precision and class_name in average_precision:
            label += f" (AP {average_precision[class_name]:.3f})"
        axes.step(rows["recall"], rows["precision"], where="post", label=label)
    axes.set_title(title)
    if len(curve):
        axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), title="class")


def reliability_figure(table: pd.DataFrame, title: str, ece: float | None = None):
    """Accuracy against confidence per bin, the diagonal of perfect calibration, bin counts below."""
    figure = reliability_frame()
    draw_reliability(figure, table, title, ece)
    return figure


def reliability_frame(dpi: float | None = None):
    """What every reliability diagram shares: two axes on a fixed confidence scale, the diagonal.
    The axes (ticks) sit below the bars: those cross no tick, and the static parts then all lie
    below a run's own (what KeptCanvas needs to draw only those)."""
    figure = Figure(figsize=(6, 6), dpi=dpi)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
    top.set(ylabel="accuracy", ylim=(0, 1), axisbelow=True)
    bottom.set(xlabel="confidence (top-label probability)", ylabel="samples", xlim=(0, 1), axisbelow=True)
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.09, top=0.94, hspace=0.08)
    return figure


def draw_reliability(figure, table: pd.DataFrame, title: str, ece: float | None = None):
    """One run's part of a reliability diagram: its bars, points, title, legend and counts."""
    top, bottom = figure.axes
    filled = table[table["count"] > 0]
    width = table["upper"] - table["lower"]
    bars = {"align": "edge", "edgecolor": "black", "alpha": 0.7}
    top.bar(filled["lower"], filled["accuracy"], width=width[filled.index], label="accuracy in bin", **bars)
    top.plot(
        filled["mean_confidence"], filled["accuracy"], "o", color="black", label="(mean confidence, accuracy)"
    )
    top.set_title(title + (f"  (ECE {ece:.3f})" if ece is not None else ""))
    top.legend(fontsize="small", loc="upper left")
    bottom.bar(table["lower"], table["count"], width=width, **bars)


MAX_INTUITION_CLASSES = 10  # one row of panels per input class: more would not be read


def intuition_figures(before: dict, after: dict, class_names, ln_c: float, grids=None) -> dict:
    """The intuition pictures, one row per input class (up to ten): the logits histogram of
    every output unit, untrained (left) beside trained (right); the softmax and the log-softmax box
    plots, untrained and trained boxes side by side per unit; and the per-sample loss with ln C.

    `before` and `after` hold float64 arrays for the test split: `logits` (n, units),
    `probabilities` and `log_probabilities` (n, C), `losses` (n,), `labels` (n,).
    Returns {file name: Figure}, each new unless `grids` (an IntuitionGrids) lends its kept
    per-class grids: IntuitionGrids.render does that and hands out PNG bytes only.
    """
    stages = (("untrained", before), ("trained", after))
    shown = [k for k in range(len(class_names)) if (after["labels"] == k).any()][:MAX_INTUITION_CLASSES]
    grid = grids._per_class_grid if grids is not None else _new_per_class_grid
    one_stage_each = [(stage,) for stage in stages]
    figures = {"intuition_logits.png": grid("logits", one_stage_each, shown, class_names, _logit_histograms)}
    for key, label, name in (
        ("probabilities", "softmax probability", "intuition_softmax_boxes.png"),
        ("log_probabilities", "log-softmax value", "intuition_log_softmax_boxes.png"),
    ):
        draw = functools.partial(_boxes, key=key, label=label)
        figures[name] = grid(key, [stages], shown, class_names, draw)
    figures["intuition_losses.png"] = _loss_histogram(stages, ln_c)
    return figures


class IntuitionGrids:
    """The per-class grids of one process, kept and redrawn for the next run with the same
    classes: building 20 panels' axes and ticks costs Matplotlib about as much as drawing them, and
    a grid's runs share a layout. Only PNG bytes leave it, so nothing it hands out is overwritten."""

    KEPT = 12  # a few datasets' worth (3 grids each); the oldest is dropped first

    def __init__(self):
        self.kept: dict = {}

    def render(self, before: dict, after: dict, class_names, ln_c: float) -> dict[str, bytes]:
        """{file name: PNG bytes} of intuition_figures."""
        return {
            name: png_bytes(figure)
            for name, figure in intuition_figures(before, after, class_names, ln_c, self).items()
        }

    def _per_class_grid(self, view, columns, shown, class_names, draw):
        key = (view, len(columns), tuple(shown), tuple(str(name) for name in class_names))
        if key not in self.kept:
            if len(self.kept) >= self.KEPT:
                del self.kept[next(iter(self.kept))]
            self.kept[key] = _new_per_class_grid(view, columns, shown, class_names, draw)
            return self.kept[key]
        return _draw_per_class_grid(self.kept[key], columns, shown, class_names, draw, fresh=False)


def _new_per_class_grid(view, columns, shown, class_names, draw):
    figure = Figure(figsize=(max(9.5, 1.5 + 4.75 * len(columns)), 1.2 + 1.9 * len(shown)))
    figure.subplots(len(shown), len(columns), squeeze=False)
    return _draw_per_class_grid(figure, columns, shown, class_names, draw, fresh=True)


def _draw_per_class_grid(figure, columns, shown, class_names, draw, fresh: bool):
    """Rows: the input classes shown; a column per entry of `columns`, the (stage, data) pairs its
    panels show. `draw(axis, stages, k, class_names)` fills one panel and returns what its axes
    mean: (title, x label, y label, legend title). A kept grid's data artists are replaced."""
    axes = np.array(figure.axes).reshape(len(shown), len(columns))
    for row, k in enumerate(shown):
        for column, stages in enumerate(columns):
            axis = axes[row, column]
            for artist in [*axis.lines, *axis.collections, *axis.patches]:
                artist.remove()
            meaning = draw(axis, stages, k, class_names)
            axis.relim()
            axis.autoscale_view()
            if fresh:
                stage = f"{stages[0][0]}: " if len(stages) == 1 else ""
                _label_panel(axis, f"{stage}true class {class_names[k]!r}")
    if fresh:
        _label_grid(figure, axes, *meaning)
    return figure


def _label_panel(axis, title):
    # A fixed title height: placing it automatically measures every panel's tick labels.
    axis.set_title(title, fontsize="small", y=1.0)
    # Few, fixed ticks: Matplotlib builds an object per tick, and ticks were most of the cost.
    axis.yaxis.set_major_locator(MaxNLocator(3))
    axis.tick_params(labelsize="x-small")


def _label_grid(figure, axes, what, xlabel, ylabel, legend_title):
    for axis in axes[-1, :]:
        axis.set_xlabel(xlabel, fontsize="small")
    for axis in axes[:, 0]:
        axis.set_ylabel(ylabel, fontsize="small")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, title=legend_title, fontsize="small", loc="center right")
    figure.suptitle(f"{what}, test samples of each true class")
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=0.8 / width,
        right=1 - (1.5 if handles else 0.2) / width,
        bottom=0.6 / height,
        top=1 - 0.9 / height,
        hspace=0.6,
    )


def _logit_histograms(axis, stages, k, class_names):
    ((_, data),) = stages
    many_lines(axis)
    axis.xaxis.set_major_locator(MaxNLocator(5))
    chosen = data["logits"][data["labels"] == k]
    bins = np.linspace(chosen.min(), chosen.max(), 25)  # shared by the units: bars line up
    for unit in range(chosen.shape[1]):
        counts, _ = np.histogram(chosen[:, unit], bins=bins)
        # Step lines, not `stairs` patches: a patch's data limits cost Matplotlib ten times more.
        heights = np.append(counts, counts[-1])
        (line,) = axis.step(bins, heights, where="post", label=_unit_name(unit, chosen, class_names))
        if unit == k and chosen.shape[1] > 1:
            axis.fill_between(bins, heights, step="post", color=line.get_color(), alpha=0.5)
    return "Logits (raw outputs) of every output unit", "logit", "test samples", "output unit"


def _unit_name(unit, chosen, class_names) -> str:
    return str(class_names[unit]) if chosen.shape[1] > 1 else "logit"


# (face, edge, median) colours: the untrained boxes recede, the trained ones stand out
BOX_STYLES = {"untrained": ("0.88", "0.45", "0.3"), "trained": ("white", "black", "tab:orange")}


def _boxes(axis, stages, k, class_names, key, label):
    """Untrained and trained box plots side by side for every output unit, each stage drawn as
    three collections (whiskers, boxes, medians) instead of Matplotlib's dozens of artists per box:
    the figure has up to 200 boxes."""
    positions = np.arange(len(class_names))
    width = 0.8 / len(stages)
    for index, (stage, data) in enumerate(stages):
        values = data[key][data["labels"] == k]
        q1, median, q3 = np.percentile(values, [25, 50, 75], axis=0)
        reach = 1.5 * (q3 - q1)  # Tukey's whiskers: the furthest sample within 1.5 IQR of the box
        low = np.where(values >= q1 - reach, values, np.inf).min(axis=0)
        high = np.where(values <= q3 + reach, values, -np.inf).max(axis=0)
        centres = positions - 0.4 + width * (index + 0.5)
        left, right = centres - 0.4 * width, centres + 0.4 * width
        face, edge, median_colour = BOX_STYLES[stage]
        axis.vlines(centres, low, high, color=edge, linewidth=0.8)
        corners = [(left, q1), (right, q1), (right, q3), (left, q3)]
        boxes = np.stack([np.stack(corner, axis=1) for corner in corners], axis=1)  # (units, 4, 2)
        axis.add_collection(
            PolyCollection(boxes, facecolors=face, edgecolors=edge, linewidths=0.8, label=stage, zorder=2.5)
        )
        axis.hlines(median, left, right, color=median_colour, linewidth=1.5, zorder=3)  # whisker, box, median
    axis.set_xticks(positions, [str(c) for c in class_names])
    return (
        f"{label[0].upper()}{label[1:]} per output unit (box: quartiles; line: median)",
        "output unit (class)",
        label,
        "model",
    )


def _loss_histogram(stages, ln_c):
    figure = Figure(figsize=(7, 4.5))
    axis = figure.subplots()
    losses = np.concatenate([data["losses"] for _, data in stages])
    upper = max(np.percentile(losses, 99), ln_c * 1.5)
    bins = np.linspace(0, upper, 40)
    for stage, data in stages:
        # One filled outline per stage, not a patch per bin: the same picture, 40% less to draw
        axis.hist(np.minimum(data["losses"], upper), bins=bins, alpha=0.5, label=stage, histtype="stepfilled")
    axis.axvline(ln_c, color="black", linestyle="--", label=f"ln C = {ln_c:.3f}")
    axis.set(
        title="Per-sample cross-entropy on the test split",
        xlabel="loss (exact, from the logits)",
        ylabel="test samples",
    )
    axis.legend()
    figure.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.92)
    return figure
