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
