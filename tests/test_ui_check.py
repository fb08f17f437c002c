"""The pure parts of tools/ui_check.py: links, arguments, the server command, reading page text.
(The browser part runs with `make ui-check`, never in the suite.)"""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "ui_check.py"
spec = importlib.util.spec_from_file_location("ui_check", SCRIPT)
ui_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ui_check)

BASE = "http://127.0.0.1:5123"

# The run page's text as Chromium reads it (MLflow 3.17, GenAI sidebar, abridged): "Datasets" is
# also a sidebar entry, so a section is found from the end.
RUN_PAGE = "\n".join(
    ["Overview", "Datasets", "Evaluation runs", "Description", "", "A note.", "", "Metrics (2)"]
    + ["Metric", "Value", "test_loss", "0.5", "Parameters (0)", "Source", "—", "Logged models"]
    + ["Datasets", "digits (04433d11)", "Train", "+2", "Tags", "kerasce.kind", ": cell"]
)


def test_the_printed_link_asks_for_the_machine_learning_view():
    assert ui_check.experiment_url(BASE, "7") == f"{BASE}/#/experiments/7?workflowType=machine_learning"


def test_a_bare_link_has_no_workflow_type():
    assert ui_check.experiment_url(BASE, "7", workflow_type=None) == f"{BASE}/#/experiments/7"


def test_run_links_keep_the_machine_learning_view():
    url = ui_check.run_url(BASE, "7", "abc")
    assert url == f"{BASE}/#/experiments/7/runs/abc?workflowType=machine_learning"


def test_defaults_are_the_repository_store_and_the_newest_experiment():
    args = ui_check.parse_args([])
    assert (args.store, args.experiment, args.out) == ("sqlite:///mlruns/mlflow.db", None, None)
    args = ui_check.parse_args(["--store", "sqlite:////tmp/s/mlflow.db", "--experiment", "smoke"])
    assert (args.store, args.experiment) == ("sqlite:////tmp/s/mlflow.db", "smoke")


def test_the_server_listens_on_loopback_with_artifacts_beside_a_sqlite_store():
    command = ui_check.server_command("sqlite:////tmp/s/mlflow.db", 5123)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "5123"
    assert command[command.index("--default-artifact-root") + 1] == "file:///tmp/s/artifacts"


def test_a_server_store_chooses_its_own_artifact_root():
    assert "--default-artifact-root" not in ui_check.server_command("http://127.0.0.1:9", 5123)


def test_sections_read_from_their_label_to_the_next():
    assert ui_check.section(RUN_PAGE, "Description", "Metrics") == "A note."
    assert ui_check.section(RUN_PAGE, "Datasets", "Tags") == "digits (04433d11) Train +2"
    assert ui_check.section(RUN_PAGE, "Source", "Logged models") == "—"
    assert ui_check.section(RUN_PAGE, "Metrics", "Parameters") == "Metric Value test_loss 0.5"


def test_a_missing_section_says_so():
    assert ui_check.section(RUN_PAGE, "Artifacts", "Tags") == "(no Artifacts section)"
