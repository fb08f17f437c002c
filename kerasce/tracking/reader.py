"""Reading runs back through MLflow's public API (search_runs, the client, artifacts)."""

import io

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from kerasce.errors import KerasceError
from kerasce.tracking.store import collector_paused, open_store, resolve_tracking_uri


class StoreReader:
    """The runs of a store as DataFrames, and their CSV artifacts as tables."""

    def __init__(self, tracking_uri: str | None):
        self.uri = resolve_tracking_uri(tracking_uri)
        open_store(self.uri, create=False)  # a reader never creates a store
        self.client = MlflowClient(self.uri)
        mlflow.set_tracking_uri(self.uri)

    def experiment_ids(self) -> dict[str, str]:
        """{name: id} of every experiment in the store."""
        return {e.name: e.experiment_id for e in self.client.search_experiments()}

    def experiment_names(self) -> list[str]:
        return sorted(e.name for e in self.client.search_experiments())

    def runs(self, experiment_names: list[str], filter_string: str = "") -> pd.DataFrame:
        """All runs of the named experiments as one DataFrame (params.*, metrics.*, tags.* columns)."""
        known = set(self.experiment_names())
        missing = [name for name in experiment_names if name not in known]
        if missing:
            raise KerasceError(
                f"no experiment named {missing[0]!r} in {self.uri}; "
                f"experiments there: {', '.join(sorted(known)) or 'none'}"
            )
        with collector_paused():
            return mlflow.search_runs(
                experiment_names=experiment_names, filter_string=filter_string, output_format="pandas"
            )

    def table(self, run_id: str, path: str) -> pd.DataFrame:
        """A CSV artifact of a run as a DataFrame."""
        return pd.read_csv(io.StringIO(mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")))

    def artifact_paths(self, run_id: str) -> set[str]:
        return {item.path for item in self.client.list_artifacts(run_id)}
