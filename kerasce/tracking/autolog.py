"""mlflow.keras.autolog(): the baseline kerasce's own logging is measured against; and a plain
active run, for kerasce.MlflowLogger in the same comparison."""

import contextlib

import mlflow


@contextlib.contextmanager
def keras_autolog_run(tracking_uri: str, experiment_name: str):
    """An active MLflow run with mlflow.keras.autolog() on."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_name)
    mlflow.keras.autolog(silent=True)
    try:
        with mlflow.start_run():
            yield
    finally:
        mlflow.keras.autolog(disable=True)


@contextlib.contextmanager
def active_run(tracking_uri: str, experiment_name: str):
    """An active MLflow run, as a user's script opens one around its fit."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_name)
    with mlflow.start_run():
        yield
