"""How every kerasce command runs and ends: one line and a documented exit code for every error
(kerasce.errors.ExitCode), SIGTERM handled like Ctrl-C, and never a raw traceback."""

import atexit
import datetime
import logging
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from kerasce.errors import ExitCode, KerasceError

INTERRUPTED_HINT = "interrupted"
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_command(code: int) -> NoReturn:
    """Exit with `code`, and with nothing else. The work is done and its outcome decided, so
    Ctrl-C and SIGTERM are ignored from here. The atexit handlers run, then the process ends
    without the interpreter's teardown: that teardown runs garbage collections over everything
    MLflow, SQLAlchemy, pandas and Matplotlib allocated only to free memory the process gives back
    anyway, and after a SIGTERM that interrupted a library's import it could end the process by
    SIGINT instead (seen in tests: the shell read 130 where the command meant 143)."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# What the commands change in their own process (never on import: a library changes nothing
# global). Set only where the user has not chosen otherwise; worker processes inherit them.
COMMAND_ENVIRONMENT = {
    # a tracking server that goes away fails the current run within seconds, not minutes
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    # artifacts are read one at a time: a progress bar per download would only be noise
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    # TensorFlow's C++ log lines (cuInit, NodeDef attributes) drown the output users came for;
    # kerasce/framework.py drops the ones printed before any level applies
    "TF_CPP_MIN_LOG_LEVEL": "3",
}
# MLflow logs a store's write errors with their tracebacks; kerasce reports them itself, in one
# line (and "Creating initial MLflow database tables..." on every new store is not news).
QUIET_LOGGERS = ("mlflow.store.db.utils",)


def configure_process() -> None:
    """A command's process settings: MLflow's retries bounded, its store logging quiet."""
    for name, value in COMMAND_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run_command(name: str, body: Callable[[], int], interrupted: str = INTERRUPTED_HINT) -> int:
    """Run a command's `body` and turn whatever it raises into one line on stderr and its exit
    code: a KerasceError its own code (2 bad input, 3 store unavailable), Ctrl-C 130 and SIGTERM
    143 (after `interrupted`, the line saying what was kept), anything else 70 with the
    traceback written to a file whose path the line gives."""
    received = {}

    def on_signal(signum, frame):
        received["signum"] = signum  # so the exit code says which signal ended the command
        _raise_interrupt(signum, frame)

    configure_process()
    previous = {signum: signal.signal(signum, on_signal) for signum in SIGNALS}
    try:
        return body()
    except KerasceError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 128 + received.get("signum", signal.SIGINT)
    except Exception as error:
        if "signum" in received:
            # the signal interrupted a library's import or clean-up and that library raised its
            # own error about it: what ended the command is still the signal
            print(interrupted, file=sys.stderr)
            return 128 + received["signum"]
        # a bug: say so in one line, keep the traceback for the report
        path = write_traceback(name)
        print(
            f"internal error in kerasce {name} ({type(error).__name__}: {first_line(error)}); "
            f"this is a bug: the traceback is in {path}",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
