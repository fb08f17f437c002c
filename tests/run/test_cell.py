"""A cell's run: what counts as an interruption (training a cell is covered end to end in
tests/test_experiment.py and tests/test_reliability.py)."""

import pytest

from kerasce.run.cell import interrupted


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
