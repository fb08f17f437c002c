import gzip

import numpy as np
import pandas as pd
import pytest

from kerasce.datasets import FASHION_MNIST_FILES, ORIGIN_ENV, SHA256_ENV, load_dataset
from kerasce.errors import DatasetError


@pytest.fixture(autouse=True)
def no_download(tmp_path, monkeypatch):
    """A missing MNIST file is looked for in an empty local folder, never on the network."""
    monkeypatch.setenv(ORIGIN_ENV, (tmp_path / "no-mirror").as_uri())
    monkeypatch.delenv(SHA256_ENV, raising=False)


def proportions(y, n_classes):
    return np.bincount(y, minlength=n_classes) / len(y)


def test_digits_shapes_sizes_and_class_names():
    data = load_dataset({"dataset": "digits"}, seed=0)
    assert (data.n_classes, data.n_features) == (10, 64)
    assert sum(data.sizes().values()) == 1797
    assert data.sizes()["n_test"] == pytest.approx(0.2 * 1797, abs=1)
    assert data.class_names == tuple(str(c) for c in range(10))
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.origin == "scikit-learn load_digits (embedded)"


def test_same_seed_same_split_other_seed_other_split():
    first, again, other = (load_dataset({"dataset": "breast_cancer"}, seed=s) for s in (0, 0, 1))
    assert first.fingerprint == again.fingerprint
    np.testing.assert_array_equal(first.x_test, again.x_test)
    assert first.fingerprint != other.fingerprint
    assert not np.array_equal(first.y_train, other.y_train)


def test_splits_are_stratified():
    data = load_dataset({"dataset": "digits"}, seed=3)
    overall = proportions(np.concatenate([data.y_train, data.y_val, data.y_test]), 10)
    for y in (data.y_train, data.y_val, data.y_test):
        np.testing.assert_allclose(proportions(y, 10), overall, atol=1.5 / len(y) + 1e-9)


def test_standardized_with_training_statistics_only():
    data = load_dataset({"dataset": "breast_cancer"}, seed=0)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1, atol=1e-3)
    assert np.abs(data.x_test.mean(axis=0)).max() > 1e-3  # test statistics were not used


def test_synthetic_imbalance_and_classes():
    data = load_dataset({"dataset": "synthetic", "n_samples": 5000, "class_weights": [0.99, 0.01]}, seed=0)
    assert proportions(data.y_train, 2)[1] == pytest.approx(0.01, abs=0.004)
    three = load_dataset({"dataset": "synthetic", "n_classes": 3, "n_features": 5}, seed=0)
    assert (three.n_classes, three.n_features) == (3, 5)
    with pytest.raises(DatasetError, match="class_weights.*3"):
        load_dataset({"dataset": "synthetic", "n_classes": 3, "class_weights": [0.5, 0.5]}, seed=0)


def test_label_noise_touches_the_training_split_only():
    clean = load_dataset({"dataset": "digits"}, seed=0)
    noisy = load_dataset({"dataset": "digits", "label_noise": 0.3}, seed=0)
    assert np.mean(clean.y_train != noisy.y_train) == pytest.approx(0.3, abs=0.05)
    np.testing.assert_array_equal(clean.y_test, noisy.y_test)
    np.testing.assert_array_equal(clean.y_val, noisy.y_val)
    assert clean.fingerprint != noisy.fingerprint


@pytest.mark.parametrize("rate", [0.05, 0.9])
def test_positive_rate_subsamples_the_training_split(rate):
    clean = load_dataset({"dataset": "breast_cancer"}, seed=0)
    stressed = load_dataset({"dataset": "breast_cancer", "positive_rate": rate}, seed=0)
    assert stressed.y_train.mean() == pytest.approx(rate, abs=0.01)
    np.testing.assert_array_equal(clean.y_test, stressed.y_test)
    with pytest.raises(DatasetError, match="binary"):
        load_dataset({"dataset": "digits", "positive_rate": rate}, seed=0)


def test_unknown_dataset_and_option_name_the_choices():
    with pytest.raises(DatasetError, match="data.dataset.*'imagenet'.*digits"):
        load_dataset({"dataset": "imagenet"}, seed=0)
    with pytest.raises(DatasetError, match="data.n_sample.*label_noise"):
        load_dataset({"dataset": "digits", "n_sample": 3}, seed=0)


@pytest.fixture
def csv_file(tmp_path):
    def write(frame):
        path = tmp_path / "data.csv"
        frame.to_csv(path, index=False)
        return str(path)

    return write


def good_frame(n=60):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "label": np.where(np.arange(n) % 3 == 0, "spam", "ham"),
        }
    )


def test_csv_loads_with_string_labels_and_chosen_features(csv_file):
    path = csv_file(good_frame())
    data = load_dataset({"dataset": "csv", "path": path, "label_column": "label"}, seed=0)
    assert data.class_names == ("ham", "spam") and data.n_features == 2
    one = load_dataset({"dataset": "csv", "path": path, "label_column": "label", "feature_columns": ["b"]}, 0)
    assert one.n_features == 1


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda f: f, "file not found"),
        (lambda f: f.rename(columns={"label": "target"}), "label_column.*'label'.*target"),
        (lambda f: f.assign(b=["x"] * len(f)), "not numeric: b"),
        (lambda f: f.assign(a=[np.nan] + [1.0] * (len(f) - 1)), r"columns a \(1 NaN\)"),
        (lambda f: f.assign(label="ham"), "fewer than two classes"),
    ],
)
def test_csv_errors_are_clear(csv_file, tmp_path, breakage, message):
    path = csv_file(breakage(good_frame()))
    if message == "file not found":
        path = str(tmp_path / "absent.csv")
    with pytest.raises(DatasetError, match=message):
        load_dataset({"dataset": "csv", "path": path, "label_column": "label"}, seed=0)


def test_every_dataset_says_where_its_data_came_from(csv_file):
    assert (
        load_dataset({"dataset": "breast_cancer"}, 0).origin == "scikit-learn load_breast_cancer (embedded)"
    )
    assert load_dataset({"dataset": "synthetic"}, 0).origin == "scikit-learn make_classification (seeded)"
    path = csv_file(good_frame())
    assert load_dataset({"dataset": "csv", "path": path, "label_column": "label"}, 0).origin == path


def tiny_images(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.uint8) % 10


def test_mnist_reads_the_keras_cache_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DatasetError, match=f"mnist.npz.*{tmp_path / 'datasets'}"):
        load_dataset({"dataset": "mnist"}, seed=0)
    (tmp_path / "datasets").mkdir()
    (x_train, y_train), (x_test, y_test) = tiny_images(80, 0), tiny_images(20, 1)
    np.savez(
        tmp_path / "datasets" / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test
    )
    data = load_dataset({"dataset": "mnist"}, seed=0)
    assert (data.n_features, data.n_classes, sum(data.sizes().values())) == (784, 10, 100)
    assert data.origin == f"{tmp_path / 'datasets' / 'mnist.npz'} (cached)"


def write_idx(path, array, header_bytes):
    with gzip.open(path, "wb") as file:
        file.write(b"\0" * header_bytes + array.tobytes())


def test_fashion_mnist_reads_the_keras_cache_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DatasetError, match="train-labels-idx1-ubyte.gz.*fashion-mnist"):
        load_dataset({"dataset": "fashion_mnist"}, seed=0)
    directory = tmp_path / "datasets" / "fashion-mnist"
    directory.mkdir(parents=True)
    (x_train, y_train), (x_test, y_test) = tiny_images(60, 0), tiny_images(40, 1)
    for name, array in zip(FASHION_MNIST_FILES, (y_train, x_train, y_test, x_test), strict=True):
        write_idx(directory / name, array, 8 if "labels" in name else 16)
    data = load_dataset({"dataset": "fashion_mnist"}, seed=0)
    assert data.class_names[9] == "Ankle boot" and sum(data.sizes().values()) == 100
    assert data.x_train.shape[1] == 784
    assert data.origin.startswith(f"{directory}/{{train-labels") and data.origin.endswith("(cached)")


def test_npz_images_keep_their_shape_and_fixed_splits_are_kept(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 8, 8, 1)), np.arange(60) % 3
    np.savez(tmp_path / "images.npz", x=x, y=y)
    dataset = load_dataset({"dataset": "npz", "path": str(tmp_path / "images.npz")}, seed=0)
    assert dataset.input_shape == (8, 8, 1) and dataset.n_features == 64 and dataset.n_classes == 3
    split = np.array(["train"] * 40 + ["val"] * 10 + ["test"] * 10)
    np.savez(tmp_path / "fixed.npz", x=x, y=y, split=split)
    fixed = load_dataset({"dataset": "npz", "path": str(tmp_path / "fixed.npz")}, seed=0)
    assert fixed.sizes() == {"n_train": 40, "n_val": 10, "n_test": 10}
    np.testing.assert_array_equal(fixed.y_test, y[50:])


def test_npz_errors_are_clear(tmp_path):
    np.savez(tmp_path / "no_y.npz", x=np.zeros((4, 2)))
    with pytest.raises(DatasetError, match="needs arrays named 'x' and 'y'"):
        load_dataset({"dataset": "npz", "path": str(tmp_path / "no_y.npz")}, seed=0)
    with pytest.raises(DatasetError, match="file not found"):
        load_dataset({"dataset": "npz", "path": str(tmp_path / "missing.npz")}, seed=0)
