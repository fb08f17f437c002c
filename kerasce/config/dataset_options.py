"""What each dataset takes: its options with their defaults and types. Plain data, so a config can
be validated without loading anything."""

from collections.abc import Mapping
from dataclasses import dataclass, fields

from kerasce.errors import DatasetError, choices_message


@dataclass(frozen=True)
class DataOptions:
    """A run's [data] table, typed: the dataset, the options every dataset takes (None: off), and
    the options of this dataset alone (DATASET_OPTIONS), its defaults filled in."""

    dataset: str
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    max_samples: int | None = None  # stratified subsample of the whole dataset before splitting
    label_noise: float = 0.0  # fraction of training labels flipped to another class
    positive_rate: float | None = None  # binary only: subsample the training split to this share of class 1
    own: tuple = ()  # ((name, value), ...)

    @classmethod
    def from_table(cls, table: Mapping) -> "DataOptions":
        """The options a [data] table names, or DatasetError naming an unknown dataset or option."""
        table = dict(table)
        name = table.pop("dataset", None)
        options = dataset_options(name)
        unknown = sorted(set(table) - set(options))
        if unknown:
            raise DatasetError(choices_message(f"data.{unknown[0]}", unknown[0], sorted(options)))
        options.update(table)
        common = {key: options.pop(key) for key in COMMON_OPTIONS}
        return cls(name, **common, own=tuple(options.items()))

    def options(self) -> dict:
        """Every option by name, the dataset's own included (what its loader reads)."""
        return {key: getattr(self, key) for key in COMMON_OPTIONS} | dict(self.own)


# Options every dataset takes, with their defaults.
COMMON_OPTIONS = {
    field.name: field.default for field in fields(DataOptions) if field.name not in ("dataset", "own")
}
# The type of each option whose default is None (for the others, the default's type).
OPTION_TYPES = {
    "max_samples": int,
    "positive_rate": float,
    "class_weights": list,
    "path": str,
    "label_column": str,
    "feature_columns": list,
    "origin": str,
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
    # arrays x (samples first, any shape: images too) and y; optional `split` ("train"/"val"/"test"
    # per sample) fixes the splits, optional `class_names`
    "npz": {"path": None},
    "mnist": {"origin": None},  # where to download missing files from (default: $KERASCE_DATASETS_ORIGIN)
    "fashion_mnist": {"origin": None},
}


def dataset_options(name: str) -> dict:
    """All options the dataset `name` takes, with defaults."""
    if name not in DATASET_OPTIONS:
        raise DatasetError(choices_message("data.dataset", name, DATASET_OPTIONS))
    return {**COMMON_OPTIONS, **DATASET_OPTIONS[name]}
