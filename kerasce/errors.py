"""The package's own error types and the exit codes every command ends with.

Every problem a user can fix surfaces as a KerasceError before any run starts; each error type
carries the exit code its command ends with (kerasce/command.py turns it into one line).
"""

import difflib
from enum import IntEnum


class ExitCode(IntEnum):
    """How every kerasce command ends (documented in each command's --help)."""

    OK = 0  # done: every run finished; the model audited
    FAILURE = 1  # a run failed (experiment); a setting clips (audit --strict)
    BAD_INPUT = 2  # bad config, data, file or option: nothing was written
    UNAVAILABLE = 3  # the store or tracking server cannot be reached or written: repeat to resume
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); SIGTERM ends with 143 (128 + SIGTERM)
    INTERNAL = 70  # a kerasce bug (sysexits' EX_SOFTWARE): the traceback is in a file, named


class KerasceError(Exception):
    """Base class: a problem the user can fix (bad config, missing file, unknown name)."""

    exit_code = ExitCode.BAD_INPUT


class ConfigError(KerasceError):
    """The config names an unknown key, has a wrong type, or an impossible value."""


class DatasetError(KerasceError):
    """A dataset cannot be loaded: missing file, bad column, too few classes."""


class AuditError(KerasceError):
    """The file, the data or an option cannot be audited; the message says why."""


class StoreUnavailable(KerasceError):
    """The store or tracking server cannot be reached or written (full disk, read-only, gone)."""

    exit_code = ExitCode.UNAVAILABLE


def choices_message(field: str, value, valid) -> str:
    """One sentence naming the field, the bad value and the valid choices, with the closest
    choice when the value looks like a typo of one ("'mnst' is not valid; did you mean 'mnist'?")."""
    valid = [str(choice) for choice in valid]
    close = difflib.get_close_matches(str(value), valid, n=1, cutoff=0.6)
    choices = f"choose one of: {', '.join(valid)}"
    if close:
        return f"{field}: {value!r} is not valid; did you mean {close[0]!r}? Or {choices}"
    return f"{field}: {value!r} is not valid; {choices}"
