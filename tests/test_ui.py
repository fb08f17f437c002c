"""The UI launcher's links and command, on a real temporary store (the UI itself is not started)."""

from mlflow.tracking import MlflowClient

from kerasce.ui import experiment_links, ui_command


def test_every_experiment_gets_a_link_to_its_runs_in_the_training_view(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    ids = [client.create_experiment(name) for name in ("first", "second")]
    assert experiment_links(uri, "http://127.0.0.1:5000") == [
        f"  first: http://127.0.0.1:5000/#/experiments/{ids[0]}?workflowType=machine_learning",
        f"  second: http://127.0.0.1:5000/#/experiments/{ids[1]}?workflowType=machine_learning",
    ]


def test_the_ui_serves_a_sqlite_store_with_its_artifacts_on_loopback(tmp_path):
    command = ui_command(f"sqlite:///{tmp_path / 'mlflow.db'}", "127.0.0.1", 5001)
    assert command[0].endswith("mlflow") and command[1] == "ui"
    assert command[command.index("--host") + 1] == "127.0.0.1" and "5001" in command
    assert command[command.index("--default-artifact-root") + 1] == (tmp_path / "artifacts").as_uri()
