"""What a run config may hold: defaults, valid choices, ranges, and the validation that names the
field, the bad value and the valid choices (with the closest one when a name is mistyped).

Plain Python only: validating a config never imports TensorFlow or Keras.
"""

import functools
import importlib.util
import math
import re

from kerasce.config.dataset_options import OPTION_TYPES, dataset_options
from kerasce.config.formulations import FORMULATIONS
from kerasce.errors import ConfigError, DatasetError, choices_message

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
# Keras backends: the package each needs, and how to get it.
BACKENDS = {
    "tensorflow": ("tensorflow", "pip install tensorflow"),
    "jax": ("jax", "pip install 'jax[cpu]'  (a default dependency of kerasce)"),
    "torch": ("torch", "pip install -e '.[torch]'  (kerasce's optional PyTorch extra)"),
}
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SEED_LIMIT = 2**32  # NumPy's and scikit-learn's seeds are 32-bit
BODY_PATTERN = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")

DEFAULTS = {
    "name": "kerasce",
    "formulation": "logits_ce",
    "precision": "float32",
    "backend": "tensorflow",  # the Keras backend the run trains on: tensorflow | jax | torch
    "seed": 0,
    "data": {"dataset": "digits"},
    # body: "package.module:function" building the layers up to the features from the input shape
    # (kerasce adds the head); empty: an MLP with hidden_units
    "model": {"hidden_units": [64], "float32_head": False, "logit_scale": 1.0, "body": ""},
    "train": {
        "epochs": 20,
        "batch_size": 64,
        "optimizer": "adam",
        "learning_rate": 1e-3,
        "on_nan": "stop",  # stop at the end of the epoch with the first non-finite batch | continue
        "deterministic": True,  # seed everything and enable TensorFlow op determinism
        "save_model": False,
        "figures": True,  # the per-run PNGs (PR, reliability, intuition); their data is logged either way
    },
}
CHOICES = {
    "formulation": tuple(FORMULATIONS),
    "precision": PRECISIONS,
    "backend": tuple(BACKENDS),
    "train.optimizer": OPTIMIZERS,
    "train.on_nan": ("stop", "continue"),
}
POSITIVE = {
    "train.epochs",
    "train.batch_size",
    "train.learning_rate",
    "model.logit_scale",
    "data.n_samples",
    "data.n_features",
    "data.n_classes",
    "data.max_samples",
    "data.class_sep",
}
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
    if data.get("val_fraction", 0.2) + data.get("test_fraction", 0.2) >= 1:
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
