"""The data checks: what a loader read is refused, in one line naming the file, the field and what
to do, before anything is split or trained. Bad data must never become a result: NaN in a feature
would otherwise be reported as an instability of the wiring under test.
"""

import numpy as np

from kerasce.errors import DatasetError


def checked_features(x, source: str, columns=None) -> np.ndarray:
    """`x` as float32 features, one row per sample: numeric and finite. `columns` names the
    feature axis of a table, so the message can say which columns hold what."""
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise DatasetError(
            f"{source}: the features must have one row per sample and at least one feature; got shape "
            f"{x.shape} (a single feature per sample is shape (n, 1))"
        )
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.iscomplexobj(x):
        raise DatasetError(f"{source}: the features must be numbers, not {x.dtype} values")
    x = x.astype(np.float32)
    bad = ~np.isfinite(x)
    if bad.any():
        samples = int(bad.reshape(len(x), -1).any(axis=1).sum())
        if columns is not None:
            where = "columns " + ", ".join(
                f"{name} ({count_nonfinite(x[:, i])})" for i, name in enumerate(columns) if bad[:, i].any()
            )
        else:
            where = f"array 'x' ({count_nonfinite(x)})"
        raise DatasetError(
            f"{source}: non-finite feature values in {samples} of {len(x)} samples, {where}; drop or fill "
            "them first (a run trained on them would report the data's NaN as the wiring's)"
        )
    return x


def count_nonfinite(values: np.ndarray) -> str:
    """'2 NaN, 1 inf' for the non-finite entries of `values`."""
    counts = {
        "NaN": int(np.isnan(values).sum()),
        "inf": int(np.isposinf(values).sum()),
        "-inf": int(np.isneginf(values).sum()),
    }
    return ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)


def single_labels(y, n_samples: int, source: str) -> np.ndarray:
    """One label per sample: (n,) or (n, 1) as they are, one-hot rows as their class index."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        if not np.isin(y, (0, 1)).all() or not (y.sum(axis=1) == 1).all():
            raise DatasetError(
                f"{source}: y has shape {y.shape} but its rows are not one-hot; give one label per "
                "sample (kerasce's grids train single-label classifiers)"
            )
        y = y.argmax(axis=1)
    if y.ndim == 0 or (y.ndim == 2 and y.shape[1] != 1) or y.ndim > 2:
        raise DatasetError(f"{source}: y must hold one label per sample; got shape {y.shape}")
    y = y.reshape(-1)
    if len(y) != n_samples:
        raise DatasetError(f"{source}: x has {n_samples} samples but y has {len(y)} labels")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DatasetError(f"{source}: y holds {count_nonfinite(y)} labels; every sample needs a label")
    return y


def classes(y: np.ndarray, source: str, class_names=None) -> tuple[np.ndarray, list[str]]:
    """(labels 0..C-1, the C class names) for the classes present in `y`. `class_names`, when
    given, are indexed by label value: label k is class_names[k], whichever labels are present."""
    values, labels = np.unique(y, return_inverse=True)
    if len(values) < 2:
        raise DatasetError(f"{source}: the labels hold fewer than two classes ({values.tolist()})")
    if class_names is None:
        return labels, [str(v) for v in values]
    names = [str(name) for name in np.asarray(class_names).reshape(-1)]
    if values.dtype.kind not in "iub" and not (values.dtype.kind == "f" and (values == values.round()).all()):
        raise DatasetError(
            f"{source}: class_names are indexed by label value, so y must hold integer labels, "
            f"not {values.dtype} values like {values[0]!r}"
        )
    if values.min() < 0 or values.max() >= len(names):
        raise DatasetError(
            f"{source}: y holds label {int(values.max() if values.max() >= len(names) else values.min())} "
            f"but class_names has {len(names)} names (labels 0 to {len(names) - 1}); give one name per label"
        )
    if len(set(names)) != len(names):
        raise DatasetError(f"{source}: class_names repeats a name: {names}")
    return labels, [names[int(v)] for v in values]
