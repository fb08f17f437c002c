"""How every kerasce command ends."""

import gc
import sys
from typing import NoReturn


def exit_command(code: int) -> NoReturn:
    """Exit with `code`, the objects alive now frozen first: the interpreter's shutdown would
    otherwise run garbage collections over everything MLflow, SQLAlchemy, pandas and Matplotlib
    allocated (0.6-0.9 s per command, measured), only to free memory the process gives back anyway.
    Reference counting still frees what it can and atexit handlers still run."""
    gc.freeze()
    sys.exit(code)
