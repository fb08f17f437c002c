"""mlflow.keras.autolog(): the baseline kerasce's own logging is measured against; and a plain
active run, for kerasce.MlflowLogger in the same comparison."""

import contextlib

import mlflow

from kerasce.tracking.store import artifact_root


def use_experiment(tracking_uri: str, experiment_name: str) -> None:
    """Make the named experiment the active one, created with its artifacts beside a SQLite store
    as kerasce's own are: MLflow's default would put them in ./mlruns of wherever the command
    runs, a user's store included."""
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri)
    if client.get_experiment_by_name(experiment_name) is None:
        client.create_experiment(experiment_name, artifact_location=artifact_root(tracking_uri))
    mlflow.set_experiment(experiment_name)


@contextlib.contextmanager
def keras_autolog_run(tracking_uri: str, experiment_name: str):
    """An active MLflow run with mlflow.keras.autolog() on."""
    use_experiment(tracking_uri, experiment_name)
    mlflow.keras.autolog(silent=True)
    try:
        with mlflow.start_run():
            yield
    finally:
        mlflow.keras.autolog(disable=True)


@contextlib.contextmanager
def active_run(tracking_uri: str, experiment_name: str):
    """An active MLflow run, as a user's script opens one around its fit."""
    use_experiment(tracking_uri, experiment_name)
    with mlflow.start_run():
        yield
