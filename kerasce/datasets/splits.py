"""Deterministic, stratified train/validation/test splits, stressed (training split only) and
standardized on the training split; the Dataset every later stage reads.

scikit-learn is imported where it is used, not with the package: validating a config imports
this package, and must answer in about a second.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from kerasce.config.dataset_options import DataOptions
from kerasce.datasets.sources import LOADERS
from kerasce.errors import DatasetError

MIN_PER_CLASS = 3  # one sample of each class in each of the three splits


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
    origin: str = ""  # where the data came from, e.g. a URL and whether it was downloaded or cached

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple:
        """One sample's shape: (n_features,) for tables, (height, width, channels) for images."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    def sizes(self) -> dict:
        return {"n_train": len(self.y_train), "n_val": len(self.y_val), "n_test": len(self.y_test)}


def load_dataset(data: DataOptions | Mapping, seed: int) -> Dataset:
    """The split, stressed and standardized dataset that `data` (a run's DataOptions, or a
    [data] table) names."""
    data = data if isinstance(data, DataOptions) else DataOptions.from_table(data)
    name, options = data.dataset, data.options()
    x, y, class_names, origin, *fixed = LOADERS[name](options, seed)
    if fixed:  # the file fixes the splits: max_samples, val_fraction and test_fraction do not apply
        splits = _fixed_splits(x, y, fixed[0])
    else:
        x, y = _subsample(x, y, options["max_samples"], seed)
        splits = _split(x, y, options["val_fraction"], options["test_fraction"], seed)
    x_train, y_train = _stress(*splits[0], options, len(class_names), seed)
    arrays = _standardize((x_train, y_train), *splits[1:])
    return Dataset(name, *arrays, tuple(class_names), _fingerprint(arrays, class_names), origin)


def _fixed_splits(x, y, split):
    """(train, val, test) pairs as the file's `split` array assigns the samples."""
    parts = ("train", "val", "test")
    for part in parts:
        if not (split == part).any():
            raise DatasetError(f"data.path: the file's split has no {part!r} samples")
    return tuple((x[split == part], y[split == part]) for part in parts)


def _subsample(x, y, max_samples, seed):
    from sklearn.model_selection import train_test_split

    if max_samples is None or max_samples >= len(y):
        return x, y
    n_classes = len(np.unique(y))
    if max_samples < MIN_PER_CLASS * n_classes:
        raise DatasetError(
            f"data.max_samples: {max_samples} are too few for {n_classes} classes: a stratified train/"
            f"validation/test split needs {MIN_PER_CLASS} per class, at least {MIN_PER_CLASS * n_classes}"
        )
    kept, _ = train_test_split(np.arange(len(y)), train_size=max_samples, stratify=y, random_state=seed)
    return x[np.sort(kept)], y[np.sort(kept)]


def _split(x, y, val_fraction, test_fraction, seed):
    """Stratified (train, val, test) pairs; every class must have a few samples in each."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    if counts.min() < MIN_PER_CLASS:
        raise DatasetError(
            f"class {int(counts.argmin())} has {counts.min()} samples; a stratified "
            f"train/validation/test split needs at least {MIN_PER_CLASS} per class"
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
