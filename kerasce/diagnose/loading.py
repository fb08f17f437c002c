"""What the audit reads from the user: their modules (`--import`), the saved model, and the data
(`--data`), each checked against the model so that a mistake is one message naming the file, the
array, the bad value and what was expected."""

import importlib
import importlib.util
import sys
import warnings
from pathlib import Path

import keras
import numpy as np

from kerasce.errors import AuditError
from kerasce.model.head_outputs import input_structure
from kerasce.model.heads import Head
from kerasce.vocabulary import LabelFormat

UNKNOWN_CLASS_HINTS = (
    "Could not locate",
    "Unknown layer",
    "Unknown loss",
    "Could not deserialize",
    "custom_objects",
)


def import_modules(names) -> None:
    """Import the user's modules (a module name, or the path of a .py file) so that the classes
    they register with Keras can be loaded."""
    for name in names:
        try:
            if name.endswith(".py"):
                path = Path(name)
                if not path.is_file():
                    raise FileNotFoundError(f"no such file {path}")
                spec = importlib.util.spec_from_file_location(path.stem, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[path.stem] = module
                spec.loader.exec_module(module)
            else:
                importlib.import_module(name)
        except Exception as error:  # the user's code may raise anything while it is imported
            raise AuditError(f"--import {name}: cannot import it ({type(error).__name__}: {error})") from None


def load_model_file(path) -> keras.Model:
    """A saved Keras model with its compiled loss; AuditError naming what is wrong with the file."""
    path = Path(path)
    if path.is_dir():
        raise AuditError(f"{path}: is a directory; give the model's .keras file (saved with model.save)")
    if not path.is_file():
        raise AuditError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "skipping optimizer variables": the audit never trains
            model = keras.models.load_model(path, compile=True)
    except Exception as error:  # Keras raises ValueError, OSError, zipfile errors... for a bad file
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        hint = ""
        if any(marker in str(error) for marker in UNKNOWN_CLASS_HINTS):
            hint = (
                "; if a class in it comes from your code, pass --import MODULE (the module that registers it)"
            )
        raise AuditError(
            f"{path}: not a Keras model file Keras can load ({type(error).__name__}: {message}){hint}"
        ) from None
    if not isinstance(model, keras.Model):
        raise AuditError(f"{path}: holds a {type(model).__name__}, not a Keras model")
    return model


def _input_names(model) -> list:
    structure = input_structure(model)
    if isinstance(structure, dict):
        return sorted(structure)
    inputs = structure if isinstance(structure, list) else [structure]
    return [tensor.name for tensor in inputs]


def _checked_input(array, tensor, key: str, path) -> np.ndarray:
    expected = tuple(tensor.shape[1:])
    shape = array.shape[1:]
    if len(shape) != len(expected) or any(
        e is not None and e != s for e, s in zip(expected, shape, strict=True)
    ):
        wanted = "(n, " + ", ".join("any" if e is None else str(e) for e in expected) + ")"
        raise AuditError(f"--data {path}: array {key!r} has shape {array.shape}; the model takes {wanted}")
    dtype = keras.backend.standardize_dtype(tensor.dtype)
    if "int" in dtype and not np.array_equal(array, np.round(array)):
        raise AuditError(f"--data {path}: array {key!r} must hold integers (the input is {dtype})")
    return array.astype(dtype) if dtype != "string" else array


def _features(arrays, model, path):
    structure = input_structure(model)
    names = _input_names(model)
    if not isinstance(structure, (dict, list)):
        keys = ["x"]
    else:
        keys = [f"x_{name}" for name in names]
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise AuditError(
            f"--data {path}: needs arrays named {keys} (missing {missing}; has {sorted(arrays)})"
        )
    tensors = structure if isinstance(structure, (list, dict)) else [structure]
    tensors = [tensors[name] for name in names] if isinstance(tensors, dict) else tensors
    values = [_checked_input(np.asarray(arrays[k]), t, k, path) for k, t in zip(keys, tensors, strict=True)]
    if len({len(v) for v in values}) > 1:
        raise AuditError(f"--data {path}: arrays {keys} hold different numbers of samples")
    if isinstance(structure, dict):
        return dict(zip(names, values, strict=True)), len(values[0])
    return (values if isinstance(structure, list) else values[0]), len(values[0])


def checked_labels(y, head: Head, key: str, path) -> np.ndarray:
    """`y` in the head's label format (sparse ids and one-hot rows convert into each other);
    AuditError for a shape or a value that format cannot hold."""
    y, classes, fmt = np.asarray(y), head.units, head.label_format
    where = f"--data {path}: labels {key!r}"
    if fmt in (LabelFormat.BINARY, LabelFormat.MULTI_HOT):
        width = 1 if fmt == LabelFormat.BINARY else classes
        if y.size != len(y) * width:
            raise AuditError(f"{where} have shape {y.shape}; {fmt} labels for this output are (n, {width})")
        if y.size and (np.nanmin(y) < 0 or np.nanmax(y) > 1 or np.isnan(y).any()):
            raise AuditError(
                f"{where} must lie in [0, 1] ({fmt} labels); found {np.nanmin(y)} to {np.nanmax(y)}"
            )
        return y.reshape(len(y), width).astype("float32")
    if y.ndim == 2 and y.shape[1] == classes and classes > 1:  # one-hot rows
        ids = y.argmax(axis=1)
    elif y.size == len(y):
        if y.size and not np.array_equal(y, np.round(y)):
            raise AuditError(f"{where} must be integer class ids (or one-hot rows of {classes})")
        ids = y.reshape(-1).astype(int)
    else:
        raise AuditError(f"{where} have shape {y.shape}; give class ids (n,) or one-hot rows (n, {classes})")
    if ids.size and (ids.min() < 0 or ids.max() >= classes):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise AuditError(
            f"{where}: class id {bad} is out of range; this output has classes 0 to {classes - 1}"
        )
    return ids if fmt != LabelFormat.ONE_HOT else np.eye(classes, dtype="float32")[ids]


def load_data(path, model: keras.Model, heads: list[Head]):
    """(features as the model takes them, {output: labels in its format}) from a .npz: `x` (or
    `x_<input>` for each of several inputs) and `y` (or `y_<output>` for each audited output)."""
    path = Path(path)
    if not path.is_file():
        raise AuditError(f"--data {path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as loaded:
            arrays = {key: loaded[key] for key in loaded.files}
    except Exception as error:
        raise AuditError(f"--data {path}: not a NumPy .npz file ({error})") from None
    features, n = _features(arrays, model, path)
    labels = {}
    for head in heads:
        key = "y" if len(heads) == 1 and "y" in arrays else f"y_{head.output}"
        if key not in arrays:
            raise AuditError(f"--data {path}: needs labels named {key!r} (has {sorted(arrays)})")
        labels[head.output] = checked_labels(arrays[key], head, key, path)
        if len(labels[head.output]) != n:
            raise AuditError(
                f"--data {path}: {n} samples in x but {len(labels[head.output])} labels in {key!r}"
            )
    return features, labels
