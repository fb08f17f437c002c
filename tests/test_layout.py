"""The tests mirror the package: tests/<package>/test_<module>.py (or test_<module>_<aspect>.py)
tests kerasce/<package>/<module>.py, and tests/test_<name>.py a command module (kerasce/<name>.py)
or the whole product end to end."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_under_test(test: Path) -> Path | None:
    """The package module a test module is named after: its longest name the stem begins with."""
    words = test.stem.removeprefix("test_").split("_")
    for end in range(len(words), 0, -1):
        module = ROOT / "kerasce" / test.parent.name / f"{'_'.join(words[:end])}.py"
        if module.is_file():
            return module
    return None


def test_each_package_test_module_names_a_module_of_its_package():
    misplaced = [
        str(test.relative_to(ROOT))
        for test in (ROOT / "tests").glob("*/test_*.py")
        if not module_under_test(test)
    ]
    assert misplaced == []


def test_each_package_of_kerasce_has_its_test_folder():
    packages = {path.parent.name for path in (ROOT / "kerasce").glob("*/__init__.py")}
    assert packages - {"examples"} <= {path.name for path in (ROOT / "tests").iterdir() if path.is_dir()}
