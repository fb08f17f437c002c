"""Bad data never becomes a result: the data checks run before any run starts (datasets/checks.py).

Each case here once trained and finished silently with wrong numbers, or crashed with a traceback.
"""

import numpy as np
import pandas as pd
import pytest

from kerasce.datasets import load_dataset
from kerasce.errors import DatasetError


def npz(tmp_path, **arrays) -> dict:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return {"dataset": "npz", "path": str(path)}


def csv(tmp_path, frame: pd.DataFrame, **options) -> dict:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return {"dataset": "csv", "path": str(path), "label_column": "label", **options}


def features(n=60, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)


def test_class_names_are_mapped_by_label_value(tmp_path):
    y = np.where(np.arange(60) % 2 == 0, 0, 2)  # labels 0 and 2: a binary task
    data = load_dataset(npz(tmp_path, x=features(), y=y, class_names=np.array(["zero", "one", "two"])), 0)
    assert data.class_names == ("zero", "two") and data.n_classes == 2
    zeros = data.x_test[data.y_test == 0]
    assert len(zeros) and len(data.x_test[data.y_test == 1]) == len(data.y_test) - len(zeros)


def test_too_few_class_names_are_refused_before_training(tmp_path):
    y = np.arange(60) % 3
    with pytest.raises(DatasetError, match="label 2 but class_names has 2 names"):
        load_dataset(npz(tmp_path, x=features(), y=y, class_names=np.array(["a", "b"])), 0)


def test_the_label_column_is_never_a_feature(tmp_path):
    frame = pd.DataFrame(features(), columns=["a", "b", "c"]).assign(label=np.arange(60) % 2)
    with pytest.raises(DatasetError, match="feature_columns.*'label'.*label column"):
        load_dataset(csv(tmp_path, frame, feature_columns=["a", "label"]), 0)


@pytest.mark.parametrize("value, count", [(np.nan, "1 NaN"), (np.inf, "1 inf"), (-np.inf, "1 -inf")])
def test_non_finite_npz_features_are_refused(tmp_path, value, count):
    x = features()
    x[5, 1] = value
    with pytest.raises(DatasetError, match=f"1 of 60 samples, array 'x' \\({count}\\)"):
        load_dataset(npz(tmp_path, x=x, y=np.arange(60) % 2), 0)


def test_non_finite_csv_features_are_refused_by_column(tmp_path):
    frame = pd.DataFrame(features(), columns=["a", "b", "c"]).assign(label=np.arange(60) % 2)
    frame.loc[3, "b"] = np.inf
    frame.loc[4, "c"] = np.nan
    with pytest.raises(DatasetError, match=r"b \(1 inf\), c \(1 NaN\)"):
        load_dataset(csv(tmp_path, frame), 0)


def write_bytes(tmp_path, name, content: bytes) -> str:
    (tmp_path / name).write_bytes(content)
    return str(tmp_path / name)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        ("a,b,label\n1,2,caf\xe9\n".encode("latin-1"), "not UTF-8"),
        (b"a,b,label\n", "has a header .'a', 'b', 'label'. but no rows"),
        (b'a,b,label\n1,2,"x\n', "cannot be read as CSV"),
    ],
)
def test_broken_csv_files_are_one_line(tmp_path, content, message):
    path = write_bytes(tmp_path, "data.csv", content)
    with pytest.raises(DatasetError, match=message):
        load_dataset({"dataset": "csv", "path": path, "label_column": "label"}, 0)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.float32(3), "y": np.arange(4)}, "one row per sample"),
        (
            {"x": np.array(["a", "b", "c", "d"] * 15).reshape(60, 1), "y": np.arange(60) % 2},
            "must be numbers",
        ),
        ({"x": features(), "y": np.arange(59) % 2}, "60 samples but y has 59"),
        ({"x": features(), "y": np.eye(2)[np.arange(60) % 2] * 2}, "not one-hot"),
        ({"x": features(), "y": np.where(np.arange(60) == 3, np.nan, np.arange(60) % 2)}, "1 NaN labels"),
        ({"x": features(), "y": np.zeros(60)}, "fewer than two classes"),
        ({"x": features(), "y": np.arange(60) % 2 + 0.5, "class_names": np.array(["a", "b"])}, "integer"),
    ],
)
def test_broken_npz_arrays_are_one_line(tmp_path, arrays, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset(npz(tmp_path, **arrays), 0)


def test_one_hot_npz_labels_are_class_indices(tmp_path):
    y = np.arange(60) % 3
    data = load_dataset(npz(tmp_path, x=features(), y=np.eye(3)[y]), 0)
    assert data.n_classes == 3 and sorted(set(data.y_train)) == [0, 1, 2]


def test_files_that_are_not_npz_archives_are_named(tmp_path):
    np.save(tmp_path / "x.npy", features())
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, x=np.array([{"a": 1}] * 4, dtype=object), y=np.arange(4))
    for path, message in [
        (tmp_path / "x.npy", "single .npy array"),
        (pickled, "holds Python objects"),
        (tmp_path, "is a directory"),
        (write_bytes(tmp_path, "junk.npz", b"not a zip"), "not a NumPy .npz file"),
    ]:
        with pytest.raises(DatasetError, match=message):
            load_dataset({"dataset": "npz", "path": str(path)}, 0)


def test_too_few_samples_for_the_classes_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="max_samples: 12 are too few for 10 classes.*at least 30"):
        load_dataset({"dataset": "digits", "max_samples": 12}, 0)
