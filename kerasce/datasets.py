"""Datasets: deterministic, stratified train/validation/test splits, standardized on train only.

Every loader returns all samples with integer labels and class names; splitting, stress options
(applied to the training split only) and standardization are shared.
"""

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets as sklearn_datasets
from sklearn.model_selection import train_test_split

from kerasce.errors import DatasetError, choices_message

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FASHION_MNIST_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# Options every dataset takes, with their defaults. None means "off".
COMMON_OPTIONS = {
    "val_fraction": 0.2,
    "test_fraction": 0.2,
    "max_samples": None,  # stratified subsample of the whole dataset before splitting
    "label_noise": 0.0,  # fraction of training labels flipped to another class
    "positive_rate": None,  # binary only: subsample the training split to this share of class 1
}
# The type of each option whose default is None (for the others, the default's type).
OPTION_TYPES = {
    "max_samples": int,
    "positive_rate": float,
    "class_weights": list,
    "path": str,
    "label_column": str,
    "feature_columns": list,
}
DATASET_OPTIONS = {
    "digits": {},
    "breast_cancer": {},
    "synthetic": {
        "n_samples": 2000,
        "n_features": 20,
        "n_classes": 2,
        "class_sep": 1.0,
        "class_weights": None,
    },
    "csv": {"path": None, "label_column": None, "feature_columns": None},
    "mnist": {},
    "fashion_mnist": {},
}


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    fingerprint: str

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    def sizes(self) -> dict:
        return {"n_train": len(self.y_train), "n_val": len(self.y_val), "n_test": len(self.y_test)}


def dataset_options(name: str) -> dict:
    """All options the dataset `name` takes, with defaults."""
    if name not in DATASET_OPTIONS:
        raise DatasetError(choices_message("data.dataset", name, DATASET_OPTIONS))
    return {**COMMON_OPTIONS, **DATASET_OPTIONS[name]}


def load_dataset(data: dict, seed: int) -> Dataset:
    """The split, stressed and standardized dataset that `data` (the config's [data] table) names."""
    data = dict(data)
    name = data.pop("dataset", None)
    options = dataset_options(name)
    unknown = sorted(set(data) - set(options))
    if unknown:
        raise DatasetError(choices_message(f"data.{unknown[0]}", unknown[0], sorted(options)))
    options.update(data)
    x, y, class_names = LOADERS[name](options, seed)
    x, y = _subsample(x, y, options["max_samples"], seed)
    splits = _split(x, y, options["val_fraction"], options["test_fraction"], seed)
    x_train, y_train = _stress(*splits[0], options, len(class_names), seed)
    arrays = _standardize((x_train, y_train), *splits[1:])
    return Dataset(name, *arrays, tuple(class_names), _fingerprint(arrays, class_names))


def _subsample(x, y, max_samples, seed):
    if max_samples is None or max_samples >= len(y):
        return x, y
    kept, _ = train_test_split(np.arange(len(y)), train_size=max_samples, stratify=y, random_state=seed)
    return x[np.sort(kept)], y[np.sort(kept)]


def _split(x, y, val_fraction, test_fraction, seed):
    """Stratified (train, val, test) pairs; every class must have a few samples in each."""
    counts = np.bincount(y)
    if counts.min() < 3:
        raise DatasetError(
            f"class {int(counts.argmin())} has {counts.min()} samples; a stratified "
            "train/validation/test split needs at least 3 per class"
        )
    try:
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y, test_size=test_fraction, stratify=y, random_state=seed
        )
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest, y_rest, test_size=val_fraction / (1 - test_fraction), stratify=y_rest, random_state=seed
        )
    except ValueError as error:  # a split too small to hold every class
        raise DatasetError(f"cannot split {len(y)} samples into train/validation/test: {error}") from error
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def _stress(x, y, options, n_classes, seed):
    """Apply the stress options to the training split: positive-rate subsampling, label noise."""
    rng = np.random.default_rng(seed)
    if options["positive_rate"] is not None:
        if n_classes != 2:
            raise DatasetError(f"data.positive_rate needs a binary dataset; this one has {n_classes} classes")
        x, y = _subsample_to_positive_rate(x, y, options["positive_rate"], rng)
    if options["label_noise"] > 0:
        flipped = rng.random(len(y)) < options["label_noise"]
        # a flipped label moves to a different class, chosen uniformly
        y = y.copy()
        y[flipped] = (y[flipped] + rng.integers(1, n_classes, size=flipped.sum())) % n_classes
    return x, y


def _subsample_to_positive_rate(x, y, rate, rng):
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if not 0 < rate < 1:
        raise DatasetError(f"data.positive_rate: {rate!r} must be between 0 and 1 (exclusive)")
    if rate < len(positives) / len(y):  # keep every negative, drop positives
        n_pos, n_neg = max(1, round(rate * len(negatives) / (1 - rate))), len(negatives)
    else:  # keep every positive, drop negatives
        n_pos, n_neg = len(positives), max(1, round(len(positives) * (1 - rate) / rate))
    kept = np.sort(
        np.concatenate(
            [rng.choice(positives, n_pos, replace=False), rng.choice(negatives, n_neg, replace=False)]
        )
    )
    return x[kept], y[kept]


def _standardize(train, val, test):
    """Scale features with the training split's mean and std (a constant feature keeps std 1)."""
    mean = train[0].mean(axis=0)
    std = train[0].std(axis=0)
    std[std == 0] = 1.0
    arrays = []
    for x, y in (train, val, test):
        arrays += [((x - mean) / std).astype(np.float32), np.asarray(y, dtype=np.int64)]
    return tuple(arrays)


def _fingerprint(arrays, class_names) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update("\0".join(class_names).encode())
    return digest.hexdigest()[:16]


def _load_digits(options, seed):
    bunch = sklearn_datasets.load_digits()
    return bunch.data.astype(np.float32), bunch.target, [str(c) for c in bunch.target_names]


def _load_breast_cancer(options, seed):
    bunch = sklearn_datasets.load_breast_cancer()
    return bunch.data.astype(np.float32), bunch.target, [str(c) for c in bunch.target_names]


def _load_synthetic(options, seed):
    n_classes, weights = options["n_classes"], options["class_weights"]
    if weights is not None:
        if len(weights) != n_classes or min(weights) <= 0:
            raise DatasetError(
                f"data.class_weights: {weights!r} must hold {n_classes} positive numbers, one per class"
            )
        weights = list(np.asarray(weights, dtype=float) / np.sum(weights))
    if n_classes > 2 ** options["n_features"]:
        raise DatasetError(
            f"data.n_features: {options['n_features']} features cannot separate {n_classes} classes"
        )
    x, y = sklearn_datasets.make_classification(
        n_samples=options["n_samples"],
        n_features=options["n_features"],
        n_informative=options["n_features"],
        n_redundant=0,
        n_clusters_per_class=1,
        n_classes=n_classes,
        class_sep=options["class_sep"],
        weights=weights,
        flip_y=0.0,
        random_state=seed,
    )
    return x.astype(np.float32), y, [f"class_{c}" for c in range(n_classes)]


def _load_csv(options, seed):
    path, label_column = options["path"], options["label_column"]
    if not path or not label_column:
        raise DatasetError("data.path and data.label_column are required for dataset 'csv'")
    if not Path(path).is_file():
        raise DatasetError(f"data.path: file not found: {path}")
    frame = pd.read_csv(path)
    if label_column not in frame.columns:
        raise DatasetError(choices_message("data.label_column", label_column, frame.columns))
    feature_columns = options["feature_columns"] or [c for c in frame.columns if c != label_column]
    missing = [c for c in feature_columns if c not in frame.columns]
    if missing:
        raise DatasetError(choices_message("data.feature_columns", missing[0], frame.columns))
    features = frame[feature_columns]
    non_numeric = [c for c in feature_columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise DatasetError(f"{path}: feature columns are not numeric: {', '.join(map(str, non_numeric))}")
    incomplete = features.columns[features.isna().any()].tolist() + (
        [label_column] if frame[label_column].isna().any() else []
    )
    if incomplete:
        raise DatasetError(f"{path}: missing values in columns: {', '.join(map(str, incomplete))}")
    class_values, y = np.unique(frame[label_column].to_numpy(), return_inverse=True)
    if len(class_values) < 2:
        raise DatasetError(f"{path}: label column {label_column!r} has fewer than two classes")
    return features.to_numpy(dtype=np.float32), y, [str(c) for c in class_values]


def _keras_datasets_dir() -> Path:
    """Where keras.datasets caches downloads: $KERAS_HOME/datasets (default ~/.keras/datasets).

    Read at call time; Keras itself fixes its home when it is imported.
    """
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _require_cached(paths: list[Path], name: str) -> None:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DatasetError(
            f"dataset {name!r} is not cached and cannot be downloaded here; put "
            f"{', '.join(p.name for p in missing)} (from {KERAS_DATASETS_URL}) into {missing[0].parent}"
        )


def _images_to_features(train_images, train_labels, test_images, test_labels):
    """Flatten both official splits into one pool; the package re-splits it per seed."""
    images = np.concatenate([train_images, test_images]).reshape(-1, 28 * 28)
    return images.astype(np.float32) / 255.0, np.concatenate([train_labels, test_labels]).astype(np.int64)


# Both loaders read the files keras.datasets caches, in its formats, without downloading:
# keras.datasets.mnist checks the official hash and re-downloads any other file, and neither
# loader can be pointed at another Keras home once Keras is imported.
def _load_mnist(options, seed):
    path = _keras_datasets_dir() / "mnist.npz"
    _require_cached([path], "mnist")
    with np.load(path, allow_pickle=False) as arrays:
        x, y = _images_to_features(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"])
    return x, y, [str(c) for c in range(10)]


def _read_idx(path: Path, header_bytes: int) -> np.ndarray:
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), np.uint8, offset=header_bytes)


def _load_fashion_mnist(options, seed):
    paths = [_keras_datasets_dir() / "fashion-mnist" / name for name in FASHION_MNIST_FILES]
    _require_cached(paths, "fashion_mnist")
    y_train, x_train, y_test, x_test = (_read_idx(path, 8 if "labels" in path.name else 16) for path in paths)
    x, y = _images_to_features(x_train, y_train, x_test, y_test)
    return x, y, list(FASHION_MNIST_CLASSES)


LOADERS = {
    "digits": _load_digits,
    "breast_cancer": _load_breast_cancer,
    "synthetic": _load_synthetic,
    "csv": _load_csv,
    "mnist": _load_mnist,
    "fashion_mnist": _load_fashion_mnist,
}
