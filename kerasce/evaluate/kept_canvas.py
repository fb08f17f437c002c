"""Per-run figures drawn on kept canvases: a figure kind's static part (axes, ticks, labels, grid)
is rendered once per process, and each run restores that picture and draws only its own artists
on it (blitting). Most of a small figure's drawing is its tick and label text, which runs share.

RunImages is the object a process keeps; it hands out PNG bytes only, never a Figure it would
overwrite with the next run.
"""

import io
from operator import attrgetter

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import Container
from matplotlib.image import imsave

from kerasce.evaluate.run_figures import (
    RUN_FIGURE_DPI,
    IntuitionGrids,
    draw_pr_curve,
    draw_reliability,
    pr_curve_frame,
    reliability_frame,
)


class KeptCanvas:
    """One figure kind's canvas. `frame` is the figure's static part; `redrawn` names the static
    artists a run changes (its title, an axis whose limits follow the data). Every artist a run
    adds, and every static one drawn above the lowest of those, is drawn per run, in the order a
    full draw would draw them: the PNG equals a new figure's. A run's colours start from the first
    of Matplotlib's default cycle, as a new figure's do: a frame sets no colour cycle of its own."""

    def __init__(self, frame, redrawn):
        self.figure = frame
        self.canvas = FigureCanvasAgg(self.figure)
        self.redrawn = set(redrawn)
        self.added: list = []  # the last run's artists and containers, removed before the next
        self.background = None
        self.animated: frozenset = frozenset()

    def render(self, draw, *args) -> bytes:
        """PNG bytes of the figure with `draw(figure, *args)`'s artists."""
        self._remove_last_run()
        before = {axes: set(axes.get_children()) for axes in self.figure.axes}
        containers = {axes: list(axes.containers) for axes in self.figure.axes}
        draw(self.figure, *args)
        self.added = [c for axes in self.figure.axes for c in axes.containers if c not in containers[axes]]
        self.added += [a for axes in self.figure.axes for a in axes.get_children() if a not in before[axes]]
        needed = {a for axes in self.figure.axes for a in self._from_first_change(axes, before[axes])}
        needed -= set(self.added)
        if self.background is None or not needed <= self.animated:
            self._render_background(needed | self.animated)
        for artist in self._artists_added():
            artist.set_animated(True)
        self.canvas.restore_region(self.background)
        for axes in self.figure.axes:
            for artist in _in_draw_order(axes):
                if artist.get_animated():
                    axes.draw_artist(artist)
        buffer = io.BytesIO()
        # What savefig does after drawing (FigureCanvasAgg.print_png): the same bytes.
        imsave(buffer, self.canvas.buffer_rgba(), format="png", origin="upper", dpi=self.figure.dpi)
        return buffer.getvalue()

    def _artists_added(self) -> list:
        return [a for a in self.added if not isinstance(a, Container)]

    def _remove_last_run(self):
        for container in self.added:
            if isinstance(container, Container):
                container.remove()  # its bars too
        for artist in self._artists_added():
            if artist.axes is not None:
                artist.remove()
        for axes in self.figure.axes:
            axes.relim()  # data limits from what is left, as a new figure's
            axes.set_prop_cycle(None)  # colours from the first again
        self.added = []

    def _from_first_change(self, axes, static) -> list:
        """Everything Axes.draw draws from the first artist the run changes on: a static artist
        above a run's own is drawn again after it."""
        artists = _in_draw_order(axes)
        changed = [i for i, a in enumerate(artists) if a not in static or a in self.redrawn]
        return artists[changed[0] :] if changed else []

    def _render_background(self, animated):
        for artist in animated:
            artist.set_animated(True)
        for artist in self._artists_added():
            artist.set_animated(True)
        self.canvas.draw()  # leaves animated artists out
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.animated = frozenset(animated)


def _in_draw_order(axes) -> list:
    """An axes' artists as Axes.draw orders them: by zorder, ties as added, its patch first."""
    return sorted((a for a in axes.get_children() if a is not axes.patch), key=attrgetter("zorder"))


class RunImages:
    """A process's per-run figures, kept between its runs: the PR and reliability canvases and the
    intuition grids (IntuitionGrids). Each method returns PNG bytes."""

    def __init__(self, dpi: int = RUN_FIGURE_DPI):
        pr = pr_curve_frame(dpi)
        reliability = reliability_frame(dpi)
        top, bottom = reliability.axes
        self.pr = KeptCanvas(pr, [pr.axes[0].title])
        self.reliability = KeptCanvas(reliability, [top.title, bottom.yaxis])
        self.grids = IntuitionGrids()

    def pr_curve(self, curve, title: str, average_precision: dict | None = None) -> bytes:
        return self.pr.render(draw_pr_curve, curve, title, average_precision)

    def reliability_diagram(self, table, title: str, ece: float | None = None) -> bytes:
        return self.reliability.render(draw_reliability, table, title, ece)

    def intuition(self, before: dict, after: dict, class_names, ln_c: float) -> dict[str, bytes]:
        return self.grids.render(before, after, class_names, ln_c)
