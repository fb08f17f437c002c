"""Experiment configs: TOML in, strictly validated, expanded into self-contained run specs.

A config is the defaults below overridden by the file, then by `--set` values. A `[grid]` table
maps config keys (dotted for nested ones: `data.label_noise`) to lists whose Cartesian product is
the set of runs; `[[grid]]` (several tables) gives the union of several products. Every run spec
is validated in full before anything runs.
"""

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import tomllib

from kerasce.datasets import OPTION_TYPES, dataset_options
from kerasce.errors import ConfigError, DatasetError, choices_message
from kerasce.formulations import FORMULATIONS
from kerasce.models import OPTIMIZERS, PRECISIONS

DEFAULTS = {
    "name": "kerasce",
    "formulation": "logits_ce",
    "precision": "float32",
    "seed": 0,
    "data": {"dataset": "digits"},
    "model": {"hidden_units": [64], "float32_head": False, "logit_scale": 1.0},
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
    "train.optimizer": tuple(OPTIMIZERS),
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
# Keys that identify a run in its name, in this order; other grid keys follow as key=value.
NAME_KEYS = ("data.dataset", "formulation", "precision")


@dataclass(frozen=True)
class RunSpec:
    """One grid cell: its whole resolved config as canonical JSON (so the spec is hashable)."""

    config_json: str
    grid_values: tuple  # ((key, value), ...) this cell's grid choices

    @property
    def config(self) -> dict:
        return json.loads(self.config_json)

    def identity(self, dataset_fingerprint: str) -> str:
        """The cell's identity: its resolved config and the exact data it sees."""
        return hashlib.sha256((self.config_json + dataset_fingerprint).encode()).hexdigest()[:16]

    @property
    def run_name(self) -> str:
        config, choices = self.config, dict(self.grid_values)
        parts = [str(get_key(config, key)) for key in NAME_KEYS]
        parts += [f"{k}={v}" for k, v in self.grid_values if k not in NAME_KEYS and k != "seed"]
        return " / ".join(parts + [f"seed {choices.get('seed', config['seed'])}"])


def load_config(path, overrides=()) -> tuple[dict, list]:
    """Read a TOML file, apply `KEY=VALUE` overrides, validate: (base config, grid tables)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    return parse_config(raw, overrides)


def parse_config(raw: dict, overrides=()) -> tuple[dict, list]:
    """Validate a config already read into a dict; returns (base config, grid tables)."""
    raw = copy.deepcopy(raw)
    grid = raw.pop("grid", {})
    for override in overrides:
        key, value = parse_override(override)
        if key.startswith("grid."):
            grid = _set_grid_key(grid, key.removeprefix("grid."), value)
        else:
            set_key(raw, key, value)
    config = _merge(DEFAULTS, raw)
    validate(config)
    return config, _grid_tables(grid)


def parse_override(text: str) -> tuple[str, object]:
    """`train.epochs=3` -> ("train.epochs", 3). The value is read as TOML, else as a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, for example train.epochs=3")
    try:
        return key.strip(), tomllib.loads(f"value = {value.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value.strip()


def expand_grid(config: dict, grid_tables: list) -> list[RunSpec]:
    """Every cell of the grid as a validated RunSpec, in a stable order, duplicates removed."""
    specs = []
    for table in grid_tables or [{}]:
        keys = list(table)
        for values in itertools.product(*(table[k] for k in keys)):
            cell = copy.deepcopy(config)
            for key, value in zip(keys, values, strict=True):
                set_key(cell, key, value)
            validate(cell)
            spec = RunSpec(json.dumps(cell, sort_keys=True), tuple(zip(keys, values, strict=True)))
            if spec not in specs:
                specs.append(spec)
    return specs


def get_key(config: dict, dotted: str):
    node = config
    for part in dotted.split("."):
        node = node[part]
    return node


def set_key(config: dict, dotted: str, value) -> None:
    """Set a dotted key, refusing keys the config does not have (dataset options are checked later)."""
    *parents, leaf = dotted.split(".")
    node, schema = config, DEFAULTS
    for depth, part in enumerate(parents):
        if part not in schema or not isinstance(schema[part], dict):
            raise ConfigError(choices_message(".".join(parents[: depth + 1]), part, _sections()))
        node, schema = node.setdefault(part, {}), schema[part]
    if not isinstance(node, dict):
        raise ConfigError(f"{dotted}: {'.'.join(parents)} is not a table")
    if parents != ["data"] and leaf not in schema:
        raise ConfigError(choices_message(dotted, leaf, sorted(schema)))
    if isinstance(schema.get(leaf), dict):
        raise ConfigError(
            f"{dotted}: is a table; set one of its keys instead, e.g. {dotted}.{next(iter(schema[leaf]))}"
        )
    node[leaf] = value


def _sections():
    return sorted(k for k, v in DEFAULTS.items() if isinstance(v, dict)) + ["grid"]


def _merge(defaults: dict, given: dict, prefix="") -> dict:
    """Defaults overridden by `given`; an unknown key or a table where a value belongs is an error."""
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        path = f"{prefix}{key}"
        if prefix == "data.":
            merged[key] = value
        elif key not in defaults:
            raise ConfigError(choices_message(path, key, sorted(defaults) + (["grid"] if not prefix else [])))
        elif isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a table, got {value!r}")
            merged[key] = _merge(defaults[key], value, f"{path}.")
        else:
            merged[key] = value
    return merged


def _set_grid_key(grid, key, value):
    if isinstance(grid, list):
        raise ConfigError(f"--set grid.{key}: the config has several [[grid]] tables; edit the file instead")
    return {**grid, key: value}


def _grid_tables(grid) -> list[dict]:
    tables = grid if isinstance(grid, list) else [grid]
    for table in tables:
        if not isinstance(table, dict):
            raise ConfigError(f"grid: expected a table of lists, got {table!r}")
        for key, values in table.items():
            if not isinstance(values, list) or not values:
                raise ConfigError(f"grid.{key}: expected a non-empty list of values, got {values!r}")
    return [t for t in tables if t]


def validate(config: dict) -> None:
    """Raise ConfigError naming the field, the value and what is allowed, for the first problem."""
    _check_types(config, DEFAULTS, "")
    _check_data(config["data"])
    for key, choices in CHOICES.items():
        if get_key(config, key) not in choices:
            raise ConfigError(choices_message(key, get_key(config, key), choices))
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
    if not config["name"].strip():
        raise ConfigError("name: the experiment name must not be empty")
    if config["seed"] < 0:
        raise ConfigError(f"seed: {config['seed']!r} must be 0 or greater")
    units = config["model"]["hidden_units"]
    if not all(isinstance(u, int) and not isinstance(u, bool) and u > 0 for u in units):
        raise ConfigError(f"model.hidden_units: {units!r} must be a list of positive integers")


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
            _check_value(f"{prefix}{key}", config[key], type(default))


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
        _check_value(f"data.{key}", value, expected)
    for key in ("class_weights", "feature_columns"):
        item_type = float if key == "class_weights" else str
        for item in data.get(key, []):
            _check_value(f"data.{key} item", item, item_type)


def _check_value(path: str, value, expected: type) -> None:
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, expected)
    if not ok:
        names = {float: "a number", int: "an integer", bool: "true or false", str: "a string", list: "a list"}
        raise ConfigError(f"{path}: expected {names[expected]}, got {value!r}")
