"""The dataset stage: named datasets loaded into stratified, standardized splits."""

from kerasce.config.dataset_options import DATASET_OPTIONS, OPTION_TYPES, dataset_options
from kerasce.datasets.keras_cache import FASHION_MNIST_FILES, KERAS_DATASETS_URL, ORIGIN_ENV, SHA256_ENV
from kerasce.datasets.splits import Dataset, load_dataset

__all__ = [
    "DATASET_OPTIONS",
    "FASHION_MNIST_FILES",
    "KERAS_DATASETS_URL",
    "OPTION_TYPES",
    "ORIGIN_ENV",
    "SHA256_ENV",
    "Dataset",
    "dataset_options",
    "load_dataset",
]
