"""Where samples come from: scikit-learn's embedded datasets, a seeded synthetic problem, a user's
CSV or .npz arrays, and the MNIST files Keras caches. Each loader returns (features, labels, class
names, origin), and a .npz with fixed splits also the split of each sample."""

from pathlib import Path

import numpy as np

from kerasce.datasets.keras_cache import load_fashion_mnist, load_mnist
from kerasce.errors import DatasetError, choices_message


def _load_digits(options, seed):
    from sklearn import datasets as sklearn_datasets  # here, not at import: see splits.py

    bunch = sklearn_datasets.load_digits()
    classes = [str(c) for c in bunch.target_names]
    return bunch.data.astype(np.float32), bunch.target, classes, "scikit-learn load_digits (embedded)"


def _load_breast_cancer(options, seed):
    from sklearn import datasets as sklearn_datasets

    bunch = sklearn_datasets.load_breast_cancer()
    classes = [str(c) for c in bunch.target_names]
    return bunch.data.astype(np.float32), bunch.target, classes, "scikit-learn load_breast_cancer (embedded)"


def _load_synthetic(options, seed):
    from sklearn import datasets as sklearn_datasets

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
    classes = [f"class_{c}" for c in range(n_classes)]
    return x.astype(np.float32), y, classes, "scikit-learn make_classification (seeded)"


def _load_csv(options, seed):
    import pandas as pd

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
    classes = [str(c) for c in class_values]
    return features.to_numpy(dtype=np.float32), y, classes, str(Path(path).resolve())


SPLIT_NAMES = ("train", "val", "test")


def _load_npz(options, seed):
    """Arrays `x` and `y` from a .npz; `split` (train/val/test per sample) fixes the splits."""
    path = options["path"]
    if not path:
        raise DatasetError("data.path is required for dataset 'npz' (a .npz file with arrays x and y)")
    if not Path(path).is_file():
        raise DatasetError(f"data.path: file not found: {path}")
    try:
        arrays = np.load(path, allow_pickle=False)
        x, y = arrays["x"], np.asarray(arrays["y"]).reshape(-1)
    except KeyError:
        raise DatasetError(f"{path}: needs arrays named 'x' and 'y' (has {sorted(arrays.files)})") from None
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: not a NumPy .npz file ({error})") from None
    if len(x) != len(y):
        raise DatasetError(f"{path}: x has {len(x)} samples but y has {len(y)}")
    class_values, labels = np.unique(y, return_inverse=True)
    names = arrays["class_names"] if "class_names" in arrays.files else class_values
    loaded = (x.astype(np.float32), labels, [str(c) for c in names], str(Path(path).resolve()))
    if "split" not in arrays.files:
        return loaded
    split = np.asarray(arrays["split"]).astype(str)
    unknown = sorted(set(split) - set(SPLIT_NAMES))
    if len(split) != len(y) or unknown:
        raise DatasetError(f"{path}: split must give one of {', '.join(SPLIT_NAMES)} per sample")
    return (*loaded, split)


LOADERS = {
    "digits": _load_digits,
    "breast_cancer": _load_breast_cancer,
    "synthetic": _load_synthetic,
    "csv": _load_csv,
    "npz": _load_npz,
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
}
