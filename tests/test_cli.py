"""The `kerasce` command: its subcommands are the package's commands."""

import subprocess
import sys
from pathlib import Path

from kerasce.cli import SUBCOMMANDS, main

KERASCE = Path(sys.executable).with_name("kerasce")


def test_without_a_command_it_lists_them(capsys):
    assert main([]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in SUBCOMMANDS)


def test_a_mistyped_command_names_the_closest(capsys):
    assert main(["comapre"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: command: 'comapre' is not valid; did you mean 'compare'?"
    )


def test_a_subcommand_is_its_module_main(capsys):
    assert main(["run", "--config", "experiments/smoke.toml", "--dry-run"]) == 0
    assert "4 runs on 1 dataset splits" in capsys.readouterr().out


def test_the_console_script_is_installed():
    done = subprocess.run([str(KERASCE), "run", "--set", "train.epochs=0"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip() == "error: train.epochs: 0 must be greater than 0"
