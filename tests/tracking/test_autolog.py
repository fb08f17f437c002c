"""mlflow.keras.autolog(), the baseline the bench compares kerasce's logging with."""

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from kerasce.tracking.autolog import keras_autolog_run


@pytest.mark.slow
def test_a_fit_inside_logs_one_run_beside_the_store_and_autolog_is_off_after(tmp_path, monkeypatch):
    import keras

    started_in = tmp_path / "elsewhere"  # MLflow's default would write ./mlruns here
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    (tmp_path / "store").mkdir()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = np.zeros((8, 3), "float32"), np.zeros(8, "int64")
    with keras_autolog_run(uri, "baseline"):
        model.fit(x, y, epochs=2, verbose=0)
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("baseline").experiment_id])
    assert run.info.status == "FINISHED" and len(client.get_metric_history(run.info.run_id, "loss")) == 2
    assert mlflow.active_run() is None
    assert list((tmp_path / "store" / "artifacts").rglob("model_summary.txt"))
    assert list(started_in.iterdir()) == []
