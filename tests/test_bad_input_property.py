"""Property, through the real command: broken data files and configs are one line and exit 2
before any run starts, and leave no store behind (no traceback, nothing half-written)."""

import io
import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasce.experiment import main

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def run_command(capsys, data_overrides: list[str]) -> tuple[int, str, Path]:
    store = Path(tempfile.mkdtemp()) / "store" / "mlflow.db"
    code = main(
        ["--config", "experiments/smoke.toml", "--tracking-uri", f"sqlite:///{store}", *data_overrides]
    )
    return code, capsys.readouterr().err, store


def assert_refused(code, err, store):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert not store.parent.exists()


# A frame of numbers with exactly one defect from the list below, so it is always bad input.
def broken_frames():
    columns = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True)
    return st.tuples(
        columns,
        st.integers(0, 40),
        st.sampled_from(
            ["nan", "inf", "-inf", "text", "no rows", "one class", "label as feature", "no label"]
        ),
        st.integers(0, 2**16),
    )


def csv_text(columns, rows, defect, seed) -> str:
    rng = np.random.default_rng(seed)
    rows = max(rows, 6)
    frame = pd.DataFrame(rng.normal(size=(rows, len(columns))), columns=columns)
    frame["label"] = np.arange(rows) % 2
    spot = rng.integers(rows)
    if defect in ("nan", "inf", "-inf"):
        frame.loc[spot, columns[0]] = float(defect)
    elif defect == "text":
        frame[columns[0]] = frame[columns[0]].astype(object)
        frame.loc[spot, columns[0]] = "".join(rng.choice(list(string.ascii_letters), 3))
    elif defect == "no rows":
        frame = frame.iloc[0:0]
    elif defect == "one class":
        frame["label"] = 1
    elif defect == "no label":
        frame = frame.drop(columns="label")
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


@SETTINGS
@given(broken_frames())
def test_broken_csv_files_are_one_line_and_exit_2(capsys, frame):
    columns, rows, defect, seed = frame
    path = Path(tempfile.mkdtemp()) / "data.csv"
    path.write_text(csv_text(columns, rows, defect, seed))
    features = f"data.feature_columns={[*columns, 'label']}" if defect == "label as feature" else None
    overrides = ["data.dataset=csv", f"data.path='{path}'", "data.label_column=label", features]
    assert_refused(*run_command(capsys, [arg for o in overrides if o for arg in ("--set", o)]))


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["csv", "npz"]))
def test_any_bytes_that_are_not_a_valid_table_are_one_line(capsys, content, kind):
    path = Path(tempfile.mkdtemp()) / f"data.{kind}"
    path.write_bytes(content)
    overrides = [f"data.dataset={kind}", f"data.path='{path}'", "data.label_column=label"][
        : 3 if kind == "csv" else 2
    ]
    code, err, store = run_command(capsys, [arg for o in overrides for arg in ("--set", o)])
    assert_refused(code, err, store)


def broken_arrays():
    """(x, y, extra arrays) with at least one defect: a bad shape, dtype, value or name table."""
    good_x = np.random.default_rng(0).normal(size=(30, 4))
    good_y = np.arange(30) % 3
    defects = {
        "nan x": lambda: ({"x": np.where(np.arange(120).reshape(30, 4) == 7, np.nan, good_x), "y": good_y}),
        "inf x": lambda: ({"x": np.where(np.arange(120).reshape(30, 4) == 9, -np.inf, good_x), "y": good_y}),
        "scalar x": lambda: ({"x": np.float64(1.0), "y": good_y}),
        "string x": lambda: ({"x": good_x.astype(str), "y": good_y}),
        "short y": lambda: ({"x": good_x, "y": good_y[:-1]}),
        "nan y": lambda: ({"x": good_x, "y": np.where(good_y == 2, np.nan, good_y)}),
        "few names": lambda: ({"x": good_x, "y": good_y, "class_names": np.array(["a", "b"])}),
        "no y": lambda: ({"x": good_x}),
        "one class": lambda: ({"x": good_x, "y": np.zeros(30)}),
        "bad split": lambda: ({"x": good_x, "y": good_y, "split": np.array(["train"] * 29 + ["holdout"])}),
    }
    return st.sampled_from(sorted(defects)).map(lambda name: defects[name]())


@SETTINGS
@given(broken_arrays())
def test_broken_npz_arrays_are_one_line_and_exit_2(capsys, arrays):
    path = Path(tempfile.mkdtemp()) / "data.npz"
    np.savez(path, **arrays)
    assert_refused(*run_command(capsys, ["--set", "data.dataset=npz", "--set", f"data.path='{path}'"]))


@pytest.mark.parametrize(
    "override",
    ["seed=4294967296", "data.max_samples=5", "train.epochs=0", "model.body='tests.user_bodies:raises'"],
)
def test_bad_config_values_are_one_line_and_exit_2(capsys, override):
    assert_refused(*run_command(capsys, ["--set", override]))
