"""Kept canvases: a run's PR and reliability PNGs drawn on a process's kept figure are exactly a new
figure's, and nothing handed out is overwritten by the next run."""

import io
import math

import numpy as np
import pandas as pd
from PIL import Image

from kerasce.evaluate.kept_canvas import RunImages
from kerasce.evaluate.metrics import reliability_table
from kerasce.evaluate.run_figures import (
    IntuitionGrids,
    logit_views,
    png_bytes,
    pr_curve_figure,
    reliability_figure,
)


def _run(seed: int, n_classes: int = 4):
    """A run's PR curve table, AP per class and reliability table, different for every seed."""
    rng = np.random.default_rng(seed)
    curve = pd.concat(
        pd.DataFrame({"class": f"c{k}", "recall": np.sort(rng.random(20))[::-1], "precision": rng.random(20)})
        for k in range(n_classes)
    )
    labels = rng.integers(0, 3, 200)
    probabilities = rng.dirichlet(np.ones(3) * (seed + 0.5), size=200)
    ap = {f"c{k}": float(rng.random()) for k in range(n_classes)}
    return curve, ap, reliability_table(labels, probabilities)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_kept_canvases_give_exactly_a_new_figures_png_run_after_run():
    images = RunImages()
    # Four classes, then two, then four again: lines, legend entries and bars come and go.
    for seed, n_classes in ((0, 4), (1, 2), (2, 4)):
        curve, ap, table = _run(seed, n_classes)
        title = f"run {seed}"
        assert images.pr_curve(curve, title, ap) == png_bytes(pr_curve_figure(curve, title, ap))
        kept = images.reliability_diagram(table, title, 0.05 * seed)
        assert kept == png_bytes(reliability_figure(table, title, 0.05 * seed))


def test_a_runs_png_is_its_own_and_stays_as_handed_out():
    images = RunImages()
    first_curve, first_ap, first_table = _run(0)
    first = images.pr_curve(first_curve, "first", first_ap), images.reliability_diagram(first_table, "first")
    kept = [bytes(png) for png in first]
    second_curve, second_ap, second_table = _run(1)
    second = images.pr_curve(second_curve, "second", second_ap), images.reliability_diagram(second_table, "s")
    assert list(first) == kept  # bytes, not a view of the canvas the second run drew on
    for before, after in zip(first, second, strict=True):
        assert (_pixels(before) != _pixels(after)).any()
    # Drawn again, the first run's data give its PNGs again: nothing of the second run is left.
    assert images.pr_curve(first_curve, "first", first_ap) == kept[0]
    assert images.reliability_diagram(first_table, "first") == kept[1]


def test_an_empty_pr_curve_shows_axes_and_title_only():
    images = RunImages()
    curve, ap, _ = _run(0)
    images.pr_curve(curve, "full", ap)
    empty = pd.DataFrame(columns=["class", "threshold", "precision", "recall"])
    assert images.pr_curve(empty, "empty") == png_bytes(pr_curve_figure(empty, "empty"))


def test_run_images_intuition_is_intuition_grids_render():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 6)
    views = [logit_views(rng.normal(size=(18, 3)) * scale, labels) for scale in (0.1, 3.0)]
    args = (*views, ("a", "b", "c"), math.log(3))
    assert RunImages().intuition(*args) == IntuitionGrids().render(*args)
