"""How a kerasce command ends: its exit code, with the interpreter's shutdown collections skipped."""

import subprocess
import sys


def test_a_command_exits_with_its_code_after_freezing_what_is_alive():
    script = (
        "import atexit, gc\n"
        "from kerasce.command import exit_command\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "exit_command(3)\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 3
    assert finished.stdout.strip() == "frozen True"  # atexit handlers still run


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
