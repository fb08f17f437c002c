"""A cell's run: what counts as an interruption, and a signal noted although a library swallowed
it (training a cell is covered end to end in tests/test_experiment.py and
tests/test_reliability.py)."""

import signal

import pytest

from kerasce.config import expand_grid, parse_config
from kerasce.run.cell import ProcessCache, interrupted, run_cell, signals_noted
from kerasce.run.inputs import load_datasets
from kerasce.run.outcome import StoreRef
from kerasce.tracking.schema import RunStart, Tag
from kerasce.tracking.writer import Tracker
from kerasce.vocabulary import RunStatus


def raise_during_cleanup():
    """A KeyboardInterrupt that lands inside a context manager whose exit then fails, as
    TensorFlow's device scope does."""
    try:
        raise KeyboardInterrupt
    finally:
        raise RuntimeError("Exiting device scope without proper scope nesting")


def test_an_error_raised_while_an_interrupt_unwinds_counts_as_the_interrupt():
    with pytest.raises(RuntimeError) as caught:
        raise_during_cleanup()
    assert interrupted(caught.value)


def test_an_error_re_raised_from_none_keeps_its_context():
    """Keras re-raises with `from None`: the context is hidden from the traceback, not lost."""
    with pytest.raises(RuntimeError) as caught:
        try:
            raise_during_cleanup()
        except RuntimeError as error:
            raise error.with_traceback(None) from None
    assert interrupted(caught.value)


def test_ordinary_errors_are_not_interruptions():
    with pytest.raises(ValueError) as caught:
        try:
            raise KeyError("inner")
        except KeyError:
            raise ValueError("outer") from None
    assert not interrupted(caught.value)
    assert interrupted(KeyboardInterrupt()) and not interrupted(RuntimeError())


class SwallowsAnInterrupt:
    """An object whose clean-up is interrupted: the KeyboardInterrupt raised inside `__del__`
    is only printed, and the code that dropped the object runs on."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the printed interrupt
def test_an_interrupt_a_library_swallowed_is_still_noted():
    with signals_noted() as signalled:
        dropped = SwallowsAnInterrupt()
        del dropped  # "Exception ignored in: ... KeyboardInterrupt"
    assert signalled == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_cell_that_fails_after_a_swallowed_signal_ends_killed_and_interrupts_the_grid(
    tmp_path, monkeypatch
):
    config, tables = parse_config(
        {
            "data": {"dataset": "digits", "max_samples": 200},
            "model": {"hidden_units": [4]},
            "train": {"epochs": 1, "figures": False},
        }
    )
    (spec,) = expand_grid(config, tables)
    tracker = Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}", "cell")
    parent = tracker.start_run(RunStart("parent", {}, {}))

    def evaluation_cut_short(*args):
        dropped = SwallowsAnInterrupt()
        del dropped  # the interrupt is only printed ...
        raise RuntimeError("resource not found")  # ... and the next call fails without saying why

    monkeypatch.setattr("kerasce.run.cell.evaluate_run", evaluation_cut_short)
    cache = ProcessCache(load_datasets([spec]))
    with pytest.raises(KeyboardInterrupt):
        run_cell(spec, StoreRef(tracker.uri, "cell", parent.run_id), cache)
    (cell,) = [r for r in tracker.runs_by_tag(Tag.PARENT_RUN, parent.run_id)]
    assert cell["status"] == RunStatus.KILLED  # not FAILED
