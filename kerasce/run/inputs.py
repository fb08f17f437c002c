"""A grid's inputs, checked before anything runs: every dataset loaded once, every formulation
fitted to its data, a user's model body built once, and the table of cells a dry run prints. Keras
is imported only for a grid with a `[model] body`."""

import pandas as pd

from kerasce.config.formulations import check_fits
from kerasce.config.spec import RunSpec
from kerasce.datasets import load_dataset
from kerasce.errors import ConfigError, DatasetError


def load_datasets(specs: list[RunSpec]) -> dict:
    """{dataset key: Dataset} for every split the grid needs; checks each formulation fits its data."""
    datasets = {}
    for spec in specs:
        if spec.dataset_key not in datasets:
            try:
                datasets[spec.dataset_key] = load_dataset(spec.resolved.data, spec.resolved.seed)
            except DatasetError as error:
                raise DatasetError(f"{spec.run_name}: {error}") from None
        try:
            check_fits(spec.resolved.formulation, datasets[spec.dataset_key].n_classes)
            _check_body(spec.resolved.model.body, datasets[spec.dataset_key].input_shape)
        except ConfigError as error:
            raise ConfigError(f"{spec.run_name}: {error}") from None
    return datasets


def _check_body(body: str, input_shape: tuple) -> None:
    """A user's body is built once here, so a broken one fails before any run starts (this
    imports Keras, for grids with a body only)."""
    if body:
        from kerasce.framework import import_keras_quietly

        import_keras_quietly()
        from kerasce.model.body import check_body

        check_body(body, input_shape)


def grid_table(specs: list[RunSpec], datasets: dict) -> pd.DataFrame:
    """One row per cell: its run name, identity and grid choices."""
    rows = [
        {
            "run_name": spec.run_name,
            "cell_hash": spec.identity(datasets[spec.dataset_key].fingerprint),
            **dict(spec.grid_values),
        }
        for spec in specs
    ]
    return pd.DataFrame(rows)
