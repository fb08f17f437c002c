"""Resume: what a grid invocation will run, given what the store already holds.

Cells with a FINISHED run are skipped (unless rerun); runs left RUNNING by a process that is gone
are marked KILLED, and their cells run again.
"""

import time
from dataclasses import dataclass

from kerasce.config.spec import RunSpec
from kerasce.run.provenance import writer_alive
from kerasce.tracking.schema import Kind, Tag
from kerasce.tracking.writer import Tracker


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
            run["status"], marked = "KILLED", marked + 1
        statuses_by_identity.setdefault(run["tags"].get(Tag.CELL_HASH), set()).add(run["status"])
    plan = Plan([], 0, 0, marked)
    for spec in specs:
        statuses = statuses_by_identity.get(spec.identity(datasets[spec.dataset_key].fingerprint), set())
        if not rerun and "FINISHED" in statuses:
            plan.skipped += 1
        elif not rerun and "RUNNING" in statuses:
            plan.running_elsewhere += 1
        else:
            plan.to_run.append(spec)
    return plan


def kill_dead_runs(tracker: Tracker, runs: list[dict], now: float) -> list[dict]:
    """Mark KILLED the RUNNING runs among `runs` whose writing process is gone; returns them."""
    dead = [r for r in runs if r["status"] == "RUNNING" and not writer_alive(r["tags"], now)]
    for run in dead:
        tracker.end_run(run["run_id"], "KILLED")
    return dead
