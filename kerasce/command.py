"""How every kerasce command runs and ends: one line and a documented exit code for every error
(kerasce.errors.ExitCode), SIGTERM handled like Ctrl-C, and never a raw traceback."""

import datetime
import gc
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from kerasce.errors import ExitCode, KerasceError

INTERRUPTED_HINT = "interrupted"


def exit_command(code: int) -> NoReturn:
    """Exit with `code`, the objects alive now frozen first: the interpreter's shutdown would
    otherwise run garbage collections over everything MLflow, SQLAlchemy, pandas and Matplotlib
    allocated, only to free memory the process gives back anyway. Reference counting still
    frees what it can and atexit handlers still run."""
    gc.freeze()
    sys.exit(code)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run_command(name: str, body: Callable[[], int], interrupted: str = INTERRUPTED_HINT) -> int:
    """Run a command's `body` and turn whatever it raises into one line on stderr and its exit
    code: a KerasceError its own code (2 bad input, 3 store unavailable), Ctrl-C 130 and SIGTERM
    143 (after `interrupted`, the line saying what was kept), anything else 70 with the
    traceback written to a file whose path the line gives."""
    received = {}

    def on_sigterm(signum, frame):
        received["signum"] = signum  # so the exit code says which signal ended the command
        _raise_interrupt(signum, frame)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return body()
    except KerasceError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 128 + received.get("signum", signal.SIGINT)
    except Exception as error:  # a bug: say so in one line, keep the traceback for the report
        path = write_traceback(name)
        print(
            f"internal error in kerasce {name} ({type(error).__name__}: {first_line(error)}); "
            f"this is a bug: the traceback is in {path}",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL
    finally:
        signal.signal(signal.SIGTERM, previous)


def first_line(error: BaseException, limit: int = 200) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else "")[:limit]


def write_traceback(name: str) -> Path:
    """The current exception's traceback in a new file under the temporary directory."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    with tempfile.NamedTemporaryFile(
        "w", prefix=f"kerasce-{name}-{stamp}-", suffix=".traceback.txt", delete=False
    ) as file:
        traceback.print_exc(file=file)
    return Path(file.name)
