"""Docs that cannot drift: every ```console block of README.md and docs/*.md is run, and its output
compared with the one the page shows.

A block is `$ command` lines (a trailing backslash continues one), each followed by the output it
shows. In the shown output, `…` stands for any text within a line and a line `...` for any
number of lines; numbers match within 10% (or 0.01), since training numbers differ by machine.
Every block of a page runs in order, in the repository's root, against a store of its own
(MLFLOW_TRACKING_URI), so pages never touch mlruns/.
"""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def examples(page: Path) -> list[tuple[str, list[str]]]:
    """(command, shown output lines) of every console block of a page, in order."""
    found = []
    for block in BLOCK.findall(page.read_text()):
        command, lines = None, []
        for line in block.splitlines():
            if line.startswith("$ ") and not (command or "").endswith("\\"):
                if command is not None:
                    found.append((command, lines))
                command, lines = line[2:], []
            elif command is not None and command.endswith("\\"):
                command = command[:-1].rstrip() + " " + line.strip()
            else:
                lines.append(line)
        if command is not None:
            found.append((command, lines))
    return found


def numbers_match(shown: str, actual: str) -> bool:
    a, b = float(shown), float(actual)
    return math.isclose(a, b, rel_tol=0.1, abs_tol=0.01)


def line_matches(shown: str, actual: str) -> bool:
    """Text equal, `…` any text, numbers within tolerance."""
    pattern, numbers = "", []
    for piece in re.split(r"(…)", shown):
        if piece == "…":
            pattern += ".*?"
            continue
        last = 0
        for number in NUMBER.finditer(piece):
            pattern += re.escape(piece[last : number.start()]) + f"({NUMBER.pattern})"
            numbers.append(number.group())
            last = number.end()
        pattern += re.escape(piece[last:])
    found = re.fullmatch(pattern, actual.rstrip())
    return bool(found) and all(numbers_match(s, a) for s, a in zip(numbers, found.groups(), strict=True))


def output_matches(shown: list[str], actual: list[str]) -> bool:
    """Shown lines against actual ones; a `...` line matches any number of lines."""
    if not shown:
        return not actual
    if shown[0].strip() == "...":
        return any(output_matches(shown[1:], actual[skip:]) for skip in range(len(actual) + 1))
    return bool(actual) and line_matches(shown[0], actual[0]) and output_matches(shown[1:], actual[1:])


def run_page(page: Path, store: Path) -> None:
    # `python` in a page is the project's own interpreter, as in an activated .venv
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    store_uri = f"sqlite:///{store / 'mlflow.db'}"
    env = {**os.environ, "PATH": path, "MLFLOW_TRACKING_URI": store_uri, "COLUMNS": "100"}
    for command, shown in examples(page):
        done = subprocess.run(
            ["bash", "-c", f"{command} 2>&1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        actual = [line for line in done.stdout.splitlines() if line.strip()]
        expected = [line for line in shown if line.strip()]
        assert output_matches(expected, actual), (
            f"{page.name}: `{command}` printed:\n"
            + "\n".join(actual)
            + "\n\nthe page shows:\n"
            + "\n".join(expected)
        )


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if examples(p)], ids=lambda p: p.name)
def test_the_pages_examples_print_what_they_show(page, tmp_path):
    run_page(page, tmp_path)


def test_shown_output_matches_with_wildcards_and_tolerances():
    assert line_matches(
        "path=fused_logits test_loss=0.3763 […s]", "path=fused_logits test_loss=0.3801 [7.2s]"
    )
    assert not line_matches("path=fused_logits test_loss=0.3763", "path=recovered_logits test_loss=0.3763")
    assert not line_matches("test_loss=0.3763", "test_loss=0.9")
    assert output_matches(["a", "...", "z 1"], ["a", "b", "c", "z 1.05"])
    assert not output_matches(["a", "z"], ["a", "b", "z"])


def test_a_block_is_commands_each_with_its_output(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("text\n```console\n$ echo a \\\n  b\na b\n$ true\n```\n```python\nx\n```\n")
    assert examples(page) == [("echo a b", ["a b"]), ("true", [])]
