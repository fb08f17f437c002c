"""Experiment configs: TOML in, strictly validated, expanded into self-contained run specs.

A config is the defaults overridden by the file, then by `--set` values. A `[grid]` table maps
config keys (dotted for nested ones: `data.label_noise`) to lists whose Cartesian product is the
set of runs; `[[grid]]` (several tables) gives the union of several products. Every run spec is
validated in full before anything runs.
"""

import copy
import dataclasses
import itertools
import json
import tomllib
from pathlib import Path

from kerasce.config.fields import DEFAULTS, sections, validate
from kerasce.config.spec import RunSpec
from kerasce.errors import ConfigError, choices_message


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
    return first_seed_draws_intuition(specs)


def first_seed_draws_intuition(specs: list[RunSpec]) -> list[RunSpec]:
    """Each cell group's intuition figures are drawn by its cell with the smallest seed."""
    first = {}
    for spec in sorted(specs, key=lambda spec: spec.config["seed"]):
        first.setdefault(spec.group_key, spec)
    return [dataclasses.replace(spec, draws_intuition=first[spec.group_key] is spec) for spec in specs]


def set_key(config: dict, dotted: str, value) -> None:
    """Set a dotted key, refusing keys the config does not have (dataset options are checked later)."""
    *parents, leaf = dotted.split(".")
    node, schema = config, DEFAULTS
    for depth, part in enumerate(parents):
        if part not in schema or not isinstance(schema[part], dict):
            raise ConfigError(choices_message(".".join(parents[: depth + 1]), part, sections()))
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
