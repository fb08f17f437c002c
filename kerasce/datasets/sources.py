"""Where samples come from: scikit-learn's embedded datasets, a seeded synthetic problem, a user's
CSV or .npz arrays, and the MNIST files Keras caches. Each loader returns (features, labels, class
names, origin), and a .npz with fixed splits also the split of each sample."""

import zipfile
from pathlib import Path

import numpy as np

from kerasce.datasets.checks import checked_features, classes, single_labels
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


def _existing_file(path, dataset: str) -> Path:
    if not path:
        raise DatasetError(f"data.path is required for dataset {dataset!r}")
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"data.path: {path} is a directory; name the {dataset.upper()} file inside it")
    if not path.is_file():
        raise DatasetError(f"data.path: file not found: {path}")
    return path


def _read_csv(path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except UnicodeDecodeError as error:
        raise DatasetError(
            f"data.path: {path} is not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        raise DatasetError(
            f"data.path: {path} is empty; expected a header line, then one row per sample"
        ) from None
    except (pd.errors.ParserError, OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatasetError(f"data.path: {path} cannot be read as CSV ({reason})") from None
    if frame.empty:
        # each name escaped: the message stays one line whatever bytes the header holds
        header = ", ".join(repr(str(column)) for column in frame.columns)
        raise DatasetError(f"data.path: {path} has a header ({header}) but no rows")
    return frame


def _load_csv(options, seed):
    import pandas as pd

    label_column = options["label_column"]
    if not options["path"] or not label_column:
        raise DatasetError("data.path and data.label_column are required for dataset 'csv'")
    path = _existing_file(options["path"], "csv")
    frame = _read_csv(path)
    if label_column not in frame.columns:
        raise DatasetError(choices_message("data.label_column", label_column, frame.columns))
    feature_columns = options["feature_columns"] or [c for c in frame.columns if c != label_column]
    if label_column in feature_columns:
        raise DatasetError(
            f"data.feature_columns: {label_column!r} is the label column; a model trained on its own "
            "labels would score perfectly and mean nothing"
        )
    missing = [c for c in feature_columns if c not in frame.columns]
    if missing:
        raise DatasetError(choices_message("data.feature_columns", missing[0], frame.columns))
    features = frame[feature_columns]
    non_numeric = [c for c in feature_columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise DatasetError(f"{path}: feature columns are not numeric: {', '.join(map(str, non_numeric))}")
    labels = frame[label_column]
    if labels.isna().any():
        count = int(labels.isna().sum())
        raise DatasetError(f"{path}: label column {label_column!r} has {count} missing labels")
    x = checked_features(features.to_numpy(), str(path), columns=[str(c) for c in feature_columns])
    y, classes_found = classes(labels.to_numpy(), f"{path}: label column {label_column!r}")
    return x, y, classes_found, str(path.resolve())


SPLIT_NAMES = ("train", "val", "test")


def _read_npz(path: Path) -> dict:
    """The arrays of a .npz archive; pickled (object) arrays are refused, not unpickled."""
    with open(path, "rb") as file:
        magic = file.read(6)
    if magic == b"\x93NUMPY":
        raise DatasetError(f"data.path: {path} is a single .npy array; save x and y with np.savez")
    if not magic.startswith(b"PK"):
        raise DatasetError(f"data.path: {path} is not a NumPy .npz file (save one with np.savez)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DatasetError(
                f"data.path: {path} holds Python objects (pickled arrays are never loaded); save numeric "
                "arrays x and y, and class_names as strings"
            ) from None
        raise DatasetError(f"data.path: {path} is not a NumPy .npz file ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise DatasetError(f"data.path: {path} is not a NumPy .npz file ({error})") from None


def _load_npz(options, seed):
    """Arrays `x` and `y` from a .npz; `split` (train/val/test per sample) fixes the splits;
    `class_names` names the labels by value (label k is class_names[k])."""
    path = _existing_file(options["path"], "npz")
    arrays = _read_npz(path)
    if "x" not in arrays or "y" not in arrays:
        raise DatasetError(f"{path}: needs arrays named 'x' and 'y' (has {sorted(arrays)})")
    x = checked_features(arrays["x"], f"{path}")
    y = single_labels(arrays["y"], len(x), f"{path}")
    labels, names = classes(y, f"{path}", arrays.get("class_names"))
    loaded = (x, labels, names, str(path.resolve()))
    if "split" not in arrays:
        return loaded
    split = np.asarray(arrays["split"]).astype(str).reshape(-1)
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
