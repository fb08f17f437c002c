"""What an executor hands a cell and gets back, as plain picklable values."""

from dataclasses import dataclass

from kerasce.vocabulary import Outcome


@dataclass(frozen=True)
class StoreRef:
    """Where a grid's cell runs go: picklable, so any executor can hand it to any process."""

    tracking_uri: str
    experiment_name: str
    parent_run_id: str
    rerun: bool = False  # train cells that have a FINISHED run already


@dataclass(frozen=True)
class CellOutcome:
    run_name: str
    status: Outcome
    summary: str
