"""Resume: what a grid invocation will run, given what the store already holds, and at each
cell's start the claim that makes sure no two invocations train the same cell.

Cells with a FINISHED run are skipped (unless rerun); runs left RUNNING by a process that is gone
are marked KILLED, and their cells run again.
"""

import random
import time
from dataclasses import dataclass

from kerasce.config.spec import RunSpec
from kerasce.run.outcome import StoreRef
from kerasce.run.provenance import writer_alive
from kerasce.tracking.schema import Kind, RunStart, Tag
from kerasce.tracking.store import sqlite_path, store_lock
from kerasce.tracking.writer import Tracker
from kerasce.vocabulary import RunStatus


@dataclass
class Plan:
    to_run: list  # RunSpecs
    skipped: int  # cells with a FINISHED run already
    running_elsewhere: int  # cells a live process is running right now
    marked_killed: int  # RUNNING runs whose process is gone, marked KILLED (their cells run again)

    def summary(self, total: int) -> str:
        parts = [f"{total} cells: {len(self.to_run)} to run", f"{self.skipped} skipped (already FINISHED)"]
        if self.running_elsewhere:
            parts.append(f"{self.running_elsewhere} running in another live process")
        if self.marked_killed:
            parts.append(f"{self.marked_killed} runs of dead processes marked KILLED")
        return ", ".join(parts)


def plan_grid(tracker: Tracker, specs: list[RunSpec], datasets: dict, rerun: bool = False) -> Plan:
    """Skip cells already FINISHED (unless rerun); mark runs whose writer died KILLED."""
    now, statuses_by_identity = time.time(), {}
    marked = len(kill_dead_runs(tracker, tracker.runs_by_tag(Tag.KIND, Kind.GRID), now))
    for run in tracker.runs_by_tag(Tag.KIND, Kind.CELL):
        if run in kill_dead_runs(tracker, [run], now):
            run["status"], marked = RunStatus.KILLED, marked + 1
        statuses_by_identity.setdefault(run["tags"].get(Tag.CELL_HASH), set()).add(run["status"])
    plan = Plan([], 0, 0, marked)
    for spec in specs:
        statuses = statuses_by_identity.get(spec.identity(datasets[spec.dataset_key].fingerprint), set())
        if not rerun and RunStatus.FINISHED in statuses:
            plan.skipped += 1
        elif not rerun and RunStatus.RUNNING in statuses:
            plan.running_elsewhere += 1
        else:
            plan.to_run.append(spec)
    return plan


def kill_dead_runs(tracker: Tracker, runs: list[dict], now: float) -> list[dict]:
    """Mark KILLED the RUNNING runs among `runs` whose writing process is gone; returns them."""
    dead = [r for r in runs if r["status"] == RunStatus.RUNNING and not writer_alive(r["tags"], now)]
    for run in dead:
        tracker.end_run(run["run_id"], RunStatus.KILLED)
    return dead


# --- the claim: at a cell's start, in case another invocation planned the same cell meanwhile

CLAIM_ATTEMPTS = 3  # a server has no lock: two claims that meet both withdraw, then try again


def claim_cell(tracker: Tracker, start: RunStart, identity: str, store: StoreRef):
    """Start the cell's run (the claim) unless another invocation has the cell: returns the
    RunWriter, or a sentence saying who has it. On a SQLite store the check and the claim happen
    under the store lock; on a server, a claim that meets another live one is withdrawn and
    tried again after a random pause."""
    for attempt in range(CLAIM_ATTEMPTS):
        with store_lock(tracker.uri):
            holder = cell_holder(tracker, identity, store)
            if holder:
                return holder
            run = tracker.start_run(start)
        if sqlite_path(tracker.uri) is not None or not rival_claims(tracker, identity, run.run_id):
            return run
        tracker.client.delete_run(run.run_id)
        time.sleep(random.uniform(0.2, 1.0) * (attempt + 1))
    return "another invocation is claiming it at the same moment"


def cell_holder(tracker: Tracker, identity: str, store: StoreRef) -> str | None:
    """Who has the cell already (a FINISHED run, or a live process training it), or None. Runs
    left RUNNING by a dead process are marked KILLED on the way: their cell is free."""
    now = time.time()
    for run in tracker.runs_by_tag(Tag.CELL_HASH, identity):
        this_grid = run["tags"].get(Tag.PARENT_RUN) == store.parent_run_id
        if run["status"] == RunStatus.FINISHED and (this_grid or not store.rerun):
            return "FINISHED already" + ("" if this_grid else " by another invocation")
        if run["status"] == RunStatus.RUNNING:
            # this grid runs each cell once: a RUNNING run of its own is a dead attempt (Ray retries)
            if this_grid or not writer_alive(run["tags"], now):
                tracker.end_run(run["run_id"], RunStatus.KILLED)
                continue
            return f"being trained by process {run['tags'].get(Tag.PID)} on {run['tags'].get(Tag.HOST)}"
    return None


def rival_claims(tracker: Tracker, identity: str, own_run_id: str) -> list[str]:
    """Live RUNNING claims of the cell other than our own (servers only: no lock made them wait)."""
    now = time.time()
    return [
        run["run_id"]
        for run in tracker.runs_by_tag(Tag.CELL_HASH, identity)
        if run["run_id"] != own_run_id
        and run["status"] == RunStatus.RUNNING
        and writer_alive(run["tags"], now)
    ]
