"""What a run config may hold: defaults, valid choices, ranges, and the validation that names the
field, the bad value and the valid choices (with the closest one when a name is mistyped).

Plain Python only: validating a config never imports TensorFlow or Keras.
"""

import functools
import importlib.util
import math
import re
from dataclasses import dataclass, field, fields

from kerasce.config.dataset_options import COMMON_OPTIONS, OPTION_TYPES, dataset_options
from kerasce.config.formulations import FORMULATIONS
from kerasce.errors import ConfigError, DatasetError, choices_message

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
# Keras backends: the package each needs, and how to get it.
BACKENDS = {
    "tensorflow": ("tensorflow", "pip install tensorflow"),
    "jax": ("jax", "pip install 'jax[cpu]'  (a default dependency of kerasce)"),
    "torch": ("torch", "pip install -e '.[torch]'  (kerasce's optional PyTorch extra)"),
}
# Optimizer names and the Keras class each stands for (looked up when the model is compiled).
OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "sgd": "SGD"}
ON_NAN = ("stop", "continue")
SEED_LIMIT = 2**32  # NumPy's and scikit-learn's seeds are 32-bit
BODY_PATTERN = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


def option(default, *, choices=(), positive=False):
    """A config field with its default; `choices` the valid values, `positive` above zero."""
    return field(default=default, metadata={"choices": tuple(choices), "positive": positive})


@dataclass(frozen=True)
class ModelOptions:
    """The [model] table."""

    hidden_units: tuple[int, ...] = option((64,))  # the MLP's hidden layers, without a body
    float32_head: bool = option(False)  # the head Dense in float32 under a mixed policy
    logit_scale: float = option(1.0, positive=True)  # the head's logits multiplied by this
    # "package.module:function" building the layers up to the features from the input shape
    # (kerasce adds the head); "": the MLP of hidden_units
    body: str = option("")


@dataclass(frozen=True)
class TrainOptions:
    """The [train] table."""

    epochs: int = option(20, positive=True)
    batch_size: int = option(64, positive=True)
    optimizer: str = option("adam", choices=OPTIMIZERS)
    learning_rate: float = option(1e-3, positive=True)
    # stop at the end of the epoch with the first non-finite batch, or continue
    on_nan: str = option("stop", choices=ON_NAN)
    deterministic: bool = option(True)  # seed everything and enable TensorFlow op determinism
    save_model: bool = option(False)
    # the per-run PNGs (PR, reliability, intuition); their data is logged either way
    figures: bool = option(True)


TABLES = {"model": ModelOptions, "train": TrainOptions}


def table_defaults(options: type) -> dict:
    """A table's defaults as a config holds them (TOML arrays are lists)."""
    return {f.name: list(f.default) if isinstance(f.default, tuple) else f.default for f in fields(options)}


DEFAULTS = {
    "name": "kerasce",
    "formulation": "logits_ce",
    "precision": "float32",
    "backend": "tensorflow",  # the Keras backend the run trains on: tensorflow | jax | torch
    "seed": 0,
    "data": {"dataset": "digits"},
    **{table: table_defaults(options) for table, options in TABLES.items()},
}
CHOICES = {
    "formulation": tuple(FORMULATIONS),
    "precision": PRECISIONS,
    "backend": tuple(BACKENDS),
    **{
        f"{table}.{f.name}": f.metadata["choices"]
        for table, options in TABLES.items()
        for f in fields(options)
        if f.metadata["choices"]
    },
}
POSITIVE = {
    f"{table}.{f.name}"
    for table, options in TABLES.items()
    for f in fields(options)
    if f.metadata["positive"]
} | {"data.n_samples", "data.n_features", "data.n_classes", "data.max_samples", "data.class_sep"}
FRACTIONS = {
    "data.label_noise": (0.0, 1.0),
    "data.val_fraction": (0.0, 1.0),
    "data.test_fraction": (0.0, 1.0),
    "data.positive_rate": (0.0, 1.0),
}


def get_key(config: dict, dotted: str):
    node = config
    for part in dotted.split("."):
        node = node[part]
    return node


def sections() -> list[str]:
    return sorted(k for k, v in DEFAULTS.items() if isinstance(v, dict)) + ["grid"]


def validate(config: dict) -> None:
    """Raise ConfigError naming the field, the value and what is allowed, for the first problem."""
    _check_types(config, DEFAULTS, "")
    _check_data(config["data"])
    for key, choices in CHOICES.items():
        if get_key(config, key) not in choices:
            raise ConfigError(choices_message(key, get_key(config, key), choices))
    _check_ranges(config)
    _check_backend_installed(config["backend"])
    if not config["name"].strip():
        raise ConfigError("name: the experiment name must not be empty")
    if not 0 <= config["seed"] < SEED_LIMIT:
        raise ConfigError(f"seed: {config['seed']!r} must be 0 or greater and below 2**32 = {SEED_LIMIT}")
    body = config["model"]["body"]
    if body and not BODY_PATTERN.fullmatch(body):
        raise ConfigError(
            f"model.body: {body!r} must name a function as 'package.module:function', "
            "e.g. 'kerasce.examples.bodies:small_cnn'"
        )
    units = config["model"]["hidden_units"]
    if not all(isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in units):
        raise ConfigError(f"model.hidden_units: {units!r} must be a list of positive integers")


@functools.cache
def _check_backend_installed(backend: str) -> None:
    package, install = BACKENDS[backend]
    if importlib.util.find_spec(package) is None:
        raise ConfigError(
            f"backend: {backend!r} needs the {package} package, which is not installed; {install}"
        )


def _check_ranges(config: dict) -> None:
    for key in POSITIVE:
        value = _get_optional(config, key)
        if value is not None and value <= 0:
            raise ConfigError(f"{key}: {value!r} must be greater than 0")
    for key, (low, high) in FRACTIONS.items():
        value = _get_optional(config, key)
        if value is not None and not low <= value < high:
            raise ConfigError(f"{key}: {value!r} must be at least {low} and below {high}")
    data = config["data"]
    if (
        data.get("val_fraction", COMMON_OPTIONS["val_fraction"])
        + data.get("test_fraction", COMMON_OPTIONS["test_fraction"])
        >= 1
    ):
        raise ConfigError(
            "data.val_fraction + data.test_fraction must leave samples to train on (sum below 1)"
        )


def _get_optional(config, dotted):
    try:
        return get_key(config, dotted)
    except KeyError:
        return None


def _check_types(config: dict, schema: dict, prefix: str) -> None:
    for key, default in schema.items():
        if isinstance(default, dict):
            _check_types(config[key], default, f"{prefix}{key}.")
        elif key in config:
            check_value(f"{prefix}{key}", config[key], type(default))


def _check_data(data: dict) -> None:
    name = data.get("dataset")
    if not isinstance(name, str):
        raise ConfigError(f"data.dataset: expected a string, got {name!r}")
    try:
        options = dataset_options(name)
    except DatasetError as error:
        raise ConfigError(str(error)) from None
    for key, value in data.items():
        if key == "dataset":
            continue
        if key not in options:
            raise ConfigError(choices_message(f"data.{key}", key, ["dataset", *sorted(options)]))
        expected = OPTION_TYPES.get(key) if options[key] is None else type(options[key])
        check_value(f"data.{key}", value, expected)
    for key in ("class_weights", "feature_columns"):
        item_type = float if key == "class_weights" else str
        for item in data.get(key, []):
            check_value(f"data.{key} item", item, item_type)


def check_value(path: str, value, expected: type) -> None:
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, expected)
    if not ok:
        names = {float: "a number", int: "an integer", bool: "true or false", str: "a string", list: "a list"}
        raise ConfigError(f"{path}: expected {names[expected]}, got {value!r}")
