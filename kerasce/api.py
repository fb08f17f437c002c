"""The public Python API: everything the commands do, without pretending to be a command line.

    import kerasce.api as kce
    grid = kce.load_grid("experiments/smoke.toml", overrides=["train.epochs=1"])
    result = kce.run_grid(grid, tracking_uri="sqlite:///mlruns/mlflow.db")
    comparison = kce.compare(["smoke"], tracking_uri="sqlite:///mlruns/mlflow.db")
    comparison.table            # one row per group: mean, std, n, 95% CI per metric
    audit = kce.audit("model.keras", data="data.npz")   # a saved model's heads and loss paths

Loading and validating a grid imports no TensorFlow or Keras; they are imported when cells run.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from kerasce.config import RunSpec, expand_grid, load_config, parse_config
from kerasce.errors import KerasceError
from kerasce.run.inputs import grid_table, load_datasets
from kerasce.vocabulary import ExecutorName

if TYPE_CHECKING:  # the grid runner imports MLflow, the audit Keras: only when used
    from kerasce.diagnose.auditing import Audit
    from kerasce.run.grid import GridResult

DEFAULT_CONFIG = Path("experiments") / "default.toml"
DEFAULT_METRICS = (
    "test_loss",
    "test_accuracy",
    "test_average_precision",
    "test_average_precision_macro",
    "test_ece",
    "test_brier",
    "nan_event_count",
)


@dataclass
class Grid:
    """A validated grid: the base config, its cells, and the dataset splits they need."""

    config: dict
    specs: list[RunSpec]
    datasets: dict

    @property
    def name(self) -> str:
        return self.config["name"]

    def table(self) -> pd.DataFrame:
        return grid_table(self.specs, self.datasets)


def load_grid(
    config: str | Path | dict = DEFAULT_CONFIG,
    overrides: Sequence[str] = (),
    *,
    experiment_name: str | None = None,
) -> Grid:
    """Read (a TOML path, or a dict shaped like one), override and validate a config, expand its
    grid and load its datasets. Raises KerasceError (ConfigError, DatasetError) naming the problem."""
    base, tables = (
        parse_config(config, overrides) if isinstance(config, dict) else load_config(config, overrides)
    )
    if experiment_name:
        base["name"] = experiment_name
    specs = expand_grid(base, tables)
    return Grid(base, specs, load_datasets(specs))


def audit(
    model,
    *,
    data=None,
    backends: bool = False,
    precisions: Sequence[str] | None = None,
    imports: Sequence[str] = (),
) -> "Audit":
    """Audit a compiled Keras model, or the path of a saved one: each classification output's
    head and the loss path Keras takes under each precision policy (every one unless
    `precisions` names some), on this backend or on every installed one (`backends`); with `data`
    (a .npz path holding x and y, or an (x, y) pair) its dead zone and non-finite outputs.
    `imports`: modules (or .py files) to import first, so the user's layers load."""
    from kerasce.diagnose.auditing import PRECISIONS
    from kerasce.diagnose.auditing import audit as audit_model

    chosen = tuple(precisions) if precisions is not None else PRECISIONS
    return audit_model(model, data=data, backends=backends, precisions=chosen, imports=tuple(imports))


def run_grid(
    grid: Grid,
    tracking_uri: str | None = None,
    *,
    jobs: int | Literal["auto"] = 1,
    rerun: bool = False,
    quiet: bool = True,
    executor: ExecutorName | str = ExecutorName.LOCAL,
    ray_address: str | None = None,
) -> "GridResult":
    """Run the grid's cells that have no FINISHED run yet (all of them with `rerun`) into the
    store; returns a GridResult (plan, outcomes, parent run id). `executor="local"` runs them in
    `jobs` processes ("auto": one per core); worker processes are spawned, so a script using
    jobs > 1 needs the usual `if __name__ == "__main__":` guard. `executor="ray"` runs each cell
    as a Ray task on the cluster at `ray_address` (host:port or "auto"), or on a local Ray
    instance started and stopped here; an unreachable address fails before any run."""
    from kerasce.run.executors import Local, available_cores
    from kerasce.run.grid import run_grid as run_cells
    from kerasce.tracking.writer import Tracker

    if executor not in set(ExecutorName):
        raise KerasceError(f"executor: {executor!r} is not valid; choose {' or '.join(ExecutorName)}")
    if executor == ExecutorName.RAY:
        return _run_on_ray(grid, tracking_uri, rerun, quiet, ray_address)
    tracker = Tracker(tracking_uri, grid.name)
    chosen = Local(available_cores() if jobs == "auto" else jobs, grid.datasets)
    return run_cells(grid.specs, grid.datasets, tracker, grid.config, chosen, quiet=quiet, rerun=rerun)


def _run_on_ray(grid: Grid, tracking_uri, rerun, quiet, ray_address):
    from kerasce.run.grid import run_grid as run_cells
    from kerasce.run.ray_executor import RayExecutor, ray_session
    from kerasce.tracking.writer import Tracker

    with ray_session(ray_address) as ray:  # connected (or refused) before the store is touched
        tracker = Tracker(tracking_uri, grid.name)
        executor = RayExecutor(ray)
        try:
            return run_cells(
                grid.specs, grid.datasets, tracker, grid.config, executor, quiet=quiet, rerun=rerun
            )
        finally:
            executor.cancel()  # an interruption between two outcomes still ends the tasks' runs KILLED


@dataclass
class Comparison:
    """Runs grouped and aggregated, and the answer they give. `summary` (one row per wiring: its
    loss path and verdict against its reference, with the effects), `table` (numbers), `shown`
    (mean ± half-width as text), `paired` / `paired_shown` (each wiring minus its reference, per
    seed), `notes` (warnings), `images` ({file name: PNG bytes}), `texts` ({file name: CSV/MD/HTML})."""

    title: str
    group_keys: list
    table: pd.DataFrame
    shown: pd.DataFrame
    notes: list = field(default_factory=list)
    images: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    tracking_uri: str = ""
    paired: pd.DataFrame = field(default_factory=pd.DataFrame)  # each wiring minus its reference, per seed
    paired_shown: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    metrics: list = field(default_factory=list)
    reference: str = "twin"

    def terminal(self) -> str:
        """The lines `python -m kerasce.compare` prints: the summary first, none over 100 characters."""
        from kerasce.analyze.outputs import terminal_lines

        return terminal_lines(self)


def compare(
    experiments: Sequence[str] = ("default",),
    tracking_uri: str | None = None,
    *,
    group_by: Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    filter_string: str = "",
    figures: bool = True,
    reference: str = "twin",
) -> Comparison:
    """Group the finished cell runs of `experiments` (by every grid key but the seed unless
    `group_by`), aggregate each metric over seeds, pair every wiring with `reference` trained on
    the same seed ("twin": its from-logits twin), say which wirings differ from it (`summary`),
    and draw each wiring's curves minus its reference's beside the overlaid curves."""
    from kerasce.analyze import comparison as cmp
    from kerasce.analyze.outputs import comparison_texts
    from kerasce.analyze.paired import display_paired, empty_paired, paired_differences
    from kerasce.analyze.summary import summarize
    from kerasce.tracking.reader import StoreReader

    reader = StoreReader(tracking_uri)
    experiments = list(experiments)
    runs = cmp.finished_cells(reader.runs(experiments, filter_string))
    group_keys = list(group_by) if group_by else cmp.default_group_keys(runs)
    metrics = cmp.check_comparable(runs, group_keys, list(metrics))
    table = cmp.aggregate(runs, group_keys, metrics)
    notes = [
        f"warning: {cmp.group_label(row, group_keys)} took different loss paths: {row['loss_path']}"
        for _, row in table[table["paths_differ"]].iterrows()
    ]
    # pairs differ only in the wiring: without it among the groups there is nothing to pair
    paired = (
        paired_differences(runs, group_keys, metrics, reference)
        if "formulation" in group_keys
        else empty_paired(group_keys, metrics)
    )
    comparison = Comparison(
        title=f"{', '.join(experiments)}: {len(runs)} runs in {len(table)} groups",
        group_keys=group_keys,
        table=table,
        shown=cmp.display_table(table, group_keys, metrics),
        notes=notes,
        images=_comparison_figures(reader, runs, group_keys, reference) if figures else {},
        tracking_uri=reader.uri,
        paired=paired,
        paired_shown=display_paired(paired, group_keys, metrics),
        summary=summarize(table, paired, group_keys, metrics, reference),
        metrics=metrics,
        reference=reference,
    )
    comparison.texts = comparison_texts(comparison)
    return comparison


def _comparison_figures(reader, runs, group_keys: list, reference: str) -> dict:
    """The difference figures first (each wiring minus its reference), then the overlaid ones."""
    from kerasce.analyze.comparison import figures_per_dataset, read_curves
    from kerasce.analyze.differences import difference_figures

    curves = read_curves(reader, runs)
    images = difference_figures(curves, runs, group_keys, reference) if "formulation" in group_keys else {}
    return images | figures_per_dataset(reader, runs, group_keys, curves)


def log_comparison(comparison: Comparison, experiment: str) -> str:
    """Log a comparison as its own run (kind `comparison`) beside the runs it compares."""
    from kerasce.tracking.schema import Kind, RunRecord, RunStart, Tag
    from kerasce.tracking.writer import Tracker

    start = RunStart(
        f"comparison: {comparison.title}",
        {"group_by": ",".join(comparison.group_keys)},
        {Tag.KIND: Kind.COMPARISON},
    )
    run = Tracker(comparison.tracking_uri, experiment).start_run(start)
    run.complete(RunRecord(texts=comparison.texts, images=comparison.images))
    return run.run_id


def write_report(tracking_uri: str | None = None, *, output: Path = Path("docs") / "FINDINGS.md") -> Path:
    """docs/FINDINGS.md (and its figures) from the claim experiments' runs in the store."""
    from kerasce.analyze.findings import write_report as write

    return write(tracking_uri, output)
