"""How a kerasce command ends: one line and its documented exit code, whatever happened."""

import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from helpers import start_cli


def test_a_command_exits_with_its_code_after_its_atexit_handlers():
    script = (
        "import atexit\n"
        "from kerasce.command import exit_command\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "print('done', end=' ')\n"
        "exit_command(3)\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 3
    assert finished.stdout == "done atexit ran\n"  # output flushed, atexit handlers run


@pytest.mark.slow
def test_a_sigterm_in_a_grids_first_second_always_exits_143():
    """It landed inside a library's import and the interpreter's teardown ended the process by
    SIGINT instead, 2 times in 6 before exit_command skipped that teardown."""
    codes = []
    for delay in (0.6, 0.8, 1.0, 1.2, 1.4, 0.6, 1.0, 1.4):
        folder = tempfile.mkdtemp()
        process = start_cli(f"sqlite:///{folder}/mlflow.db", "--jobs", "1")
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=120)
        codes.append(process.returncode)
        shutil.rmtree(folder)
    assert codes == [143] * len(codes)


def test_every_error_is_one_line_and_its_documented_code(capsys):
    from pathlib import Path

    from kerasce.command import run_command
    from kerasce.errors import ConfigError, StoreUnavailable

    def raising(error):
        def body():
            raise error

        return body

    assert run_command("t", raising(ConfigError("train.epochs: 0 must be greater than 0"))) == 2
    assert capsys.readouterr().err == "error: train.epochs: 0 must be greater than 0\n"
    assert run_command("t", raising(StoreUnavailable("disk full writing to x"))) == 3
    assert capsys.readouterr().err == "error: disk full writing to x\n"
    assert run_command("t", raising(KeyboardInterrupt()), interrupted="interrupted: kept") == 130
    assert capsys.readouterr().err == "interrupted: kept\n"
    assert run_command("t", raising(ZeroDivisionError("division by zero"))) == 70
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("internal error in kerasce t (ZeroDivisionError: division by zero); this is a bug")
    traceback_file = Path(line.rsplit(" ", 1)[1])
    assert "ZeroDivisionError" in traceback_file.read_text() and "Traceback" in traceback_file.read_text()
    traceback_file.unlink()


def test_sigterm_ends_a_command_with_143():
    script = (
        "import os, signal\n"
        "from kerasce.command import run_command\n"
        "def body():\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    signal.pause()\n"
        "raise SystemExit(run_command('t', body))\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 143 and finished.stderr == "interrupted\n"


def test_a_library_error_raised_by_a_signals_interrupt_still_exits_with_the_signal(capsys):
    """A SIGTERM inside an import ended one grid in eight with 70, "internal error": the library
    turned the interrupt into its own exception."""
    import os

    from kerasce.command import run_command

    def body():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()
        except KeyboardInterrupt as interrupt:
            raise ImportError("partially initialized module") from interrupt

    assert run_command("t", body) == 143
    assert capsys.readouterr().err == "interrupted\n"
