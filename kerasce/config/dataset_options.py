"""What each dataset takes: its options with their defaults and types. Plain data, so a config can
be validated without loading anything."""

from kerasce.errors import DatasetError, choices_message

# Options every dataset takes, with their defaults. None means "off".
COMMON_OPTIONS = {
    "val_fraction": 0.2,
    "test_fraction": 0.2,
    "max_samples": None,  # stratified subsample of the whole dataset before splitting
    "label_noise": 0.0,  # fraction of training labels flipped to another class
    "positive_rate": None,  # binary only: subsample the training split to this share of class 1
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
