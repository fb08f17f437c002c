"""`python -m kerasce.ui`: the MLflow UI on a kerasce store, with a link per experiment that opens
its runs in the UI's model-training view (`make ui` runs it on the default store).

A new browser would otherwise open each experiment on MLflow 3's GenAI pages; the links carry the
view, and kerasce's experiments also declare their kind (tracking/schema.py).
"""

import argparse
import os
import shutil
import sys

from kerasce.command import exit_command, run_command
from kerasce.tracking.reader import StoreReader
from kerasce.tracking.schema import runs_url
from kerasce.tracking.store import artifact_root, resolve_tracking_uri


def experiment_links(tracking_uri: str, address: str) -> list[str]:
    """'name: link' for every experiment of the store, oldest first."""
    ids = StoreReader(tracking_uri).experiment_ids()
    return [
        f"  {name}: {runs_url(address, id_)}"
        for name, id_ in sorted(ids.items(), key=lambda item: int(item[1]))
        if name != "Default"
    ]


def ui_command(tracking_uri: str, host: str, port: int) -> list[str]:
    mlflow = shutil.which("mlflow", path=os.path.dirname(sys.executable)) or "mlflow"
    command = [mlflow, "ui", "--backend-store-uri", tracking_uri, "--host", host, "--port", str(port)]
    root = artifact_root(tracking_uri)
    return command + (["--default-artifact-root", root] if root else [])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kerasce.ui", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracking-uri", help="the store (default: MLFLOW_TRACKING_URI or mlruns/mlflow.db)")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default: this machine only)")
    parser.add_argument("--port", type=int, default=5000)
    arguments = parser.parse_args(argv)
    return run_command("ui", lambda: serve(arguments))


def serve(arguments) -> int:
    uri = resolve_tracking_uri(arguments.tracking_uri)
    links = experiment_links(uri, f"http://{arguments.host}:{arguments.port}")
    print("Runs of each experiment, in the model-training view:", *links, sep="\n", flush=True)
    command = ui_command(uri, arguments.host, arguments.port)
    # Without MLflow 3's GenAI job runners: eight processes a kerasce store never needs.
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    os.execv(command[0], command)  # the UI replaces this process: Ctrl-C stops it as usual


if __name__ == "__main__":
    exit_command(main())
