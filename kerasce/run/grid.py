"""Running a grid: validate everything, plan what still needs running, then hand the cells to an
executor under one parent run, with a progress bar and a summary line per run.

Nothing is written to the store until every cell's config and dataset have been checked, so bad
input leaves no half-written runs. A cell that raises is marked FAILED and the grid goes on.
"""

import contextlib
from dataclasses import dataclass, field

from tqdm import tqdm

from kerasce.config.spec import RunSpec
from kerasce.errors import StoreUnavailable
from kerasce.run.executors import Executor, InProcess
from kerasce.run.outcome import CellOutcome, StoreRef
from kerasce.run.plan import Plan, plan_grid
from kerasce.run.record import grid_start, grid_texts
from kerasce.tracking.schema import RunRecord, Tag
from kerasce.tracking.store import check_reachable, writes_to
from kerasce.tracking.writer import Tracker
from kerasce.vocabulary import Outcome, RunStatus


@dataclass
class GridResult:
    plan: Plan
    tracking_uri: str
    outcomes: list[CellOutcome] = field(default_factory=list)
    parent_run_id: str | None = None
    runs_link: str = ""  # opens the experiment's runs in the MLflow UI's model-training view

    @property
    def failed(self) -> list[CellOutcome]:
        return [o for o in self.outcomes if o.status == Outcome.FAILED]

    def counts(self) -> str:
        """'3 of 4 runs finished, 1 skipped (another invocation has it), 0 failed'."""
        finished = sum(o.status == Outcome.FINISHED for o in self.outcomes)
        skipped = sum(o.status == Outcome.SKIPPED for o in self.outcomes)
        also = f", {skipped} skipped (another invocation has them)" if skipped else ""
        return f"{finished} of {len(self.outcomes)} runs finished{also}, {len(self.failed)} failed"


def run_grid(
    specs: list[RunSpec],
    datasets: dict,
    tracker: Tracker,
    experiment_config: dict,
    executor: Executor | None = None,
    quiet: bool = False,
    rerun: bool = False,
) -> GridResult:
    """Run the grid's cells that still need running under one parent run.

    Ctrl-C or SIGTERM (raised as KeyboardInterrupt) ends the current runs and the parent KILLED.
    """
    plan = plan_grid(tracker, specs, datasets, rerun)
    executor = executor or InProcess(datasets)
    if not quiet:
        where = f", {executor.describe(plan.to_run)}" if plan.to_run else ""
        print(plan.summary(len(specs)) + where)
    result = GridResult(plan, tracker.uri, runs_link=tracker.runs_link())
    if not plan.to_run:
        return result
    with writes_to(tracker.uri):
        parent = tracker.start_run(grid_start(experiment_config, len(specs), plan.skipped))
        parent.upload(grid_texts(experiment_config, specs, datasets))
    result.parent_run_id = parent.run_id
    store = StoreRef(tracker.uri, tracker.experiment_name, parent.run_id, rerun)
    try:
        with tqdm(total=len(plan.to_run), unit="run", disable=quiet, dynamic_ncols=True) as progress:
            for outcome in executor.run(plan.to_run, store):
                result.outcomes.append(outcome)
                if not quiet:
                    progress.write(outcome.summary)
                progress.update()
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):  # a store that stopped taking writes: the rerun cleans up
            parent.finish(RunStatus.KILLED)
        raise
    except StoreUnavailable:
        with contextlib.suppress(Exception):
            parent.finish(RunStatus.FAILED)
        raise
    finish_grid(parent, result, tracker.uri)
    return result


def finish_grid(parent, result: GridResult, uri: str) -> None:
    status = RunStatus.FAILED if result.failed else RunStatus.FINISHED
    try:
        with writes_to(uri):
            parent.complete(RunRecord(tags={Tag.FAILED_CELLS: len(result.failed)}, status=status))
    except Exception:
        # A server that went away after the last cell (its database first: those cells FAILED)
        # ends the grid the way one gone mid-grid does: exit 3, and the repeat resumes.
        check_reachable(uri)
        raise
