"""python -m kerasce.server start|stop|status: a team MLflow tracking server on PostgreSQL."""

import argparse
from pathlib import Path

from kerasce.command import exit_command, run_command

EXAMPLES = """\
examples:
  python -m kerasce.server start                       # PostgreSQL + mlflow server on 127.0.0.1:5000
  KERASCE_SERVER_PASSWORD=... python -m kerasce.server start --host 0.0.0.0   # for other machines
  python -m kerasce.server start --backend-store-uri postgresql://user@dbhost/mlflow
  python -m kerasce.server status
  python -m kerasce.server stop                        # both; the data stays in .kerasce-server/

Clients: MLFLOW_TRACKING_URI=http://HOST:5000 (with MLFLOW_TRACKING_USERNAME and
MLFLOW_TRACKING_PASSWORD when the server has basic auth).
"""


def parse_arguments(argv=None) -> argparse.Namespace:
    from kerasce.tracking.team_server import DEFAULT_DATA_DIR, PASSWORD_VARIABLE

    parser = argparse.ArgumentParser(
        prog="python -m kerasce.server",
        description="Start, stop or check a team MLflow tracking server on PostgreSQL, with "
        "artifacts proxied by the server (workers need only its URL).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help=f"default: {DEFAULT_DATA_DIR}/"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help=f"address to listen on (default 127.0.0.1; any other needs {PASSWORD_VARIABLE})",
    )
    parser.add_argument("--port", type=int, default=5000, help="default: 5000")
    parser.add_argument(
        "--backend-store-uri",
        metavar="URI",
        help="a PostgreSQL you run (default: one started in DATA_DIR/pgdata)",
    )
    parser.add_argument(
        "--auth", action="store_true", help=f"basic auth on loopback too (needs {PASSWORD_VARIABLE})"
    )
    parser.add_argument("--workers", type=int, default=2, help="mlflow server workers (default: 2)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    return run_command("server", lambda: act(arguments))


def act(arguments) -> int:
    from kerasce.tracking import team_server

    if arguments.action == "start":
        options = team_server.ServerOptions(
            arguments.data_dir,
            arguments.host,
            arguments.port,
            arguments.backend_store_uri,
            arguments.auth,
            arguments.workers,
        )
        state = team_server.start(options)
        print(f"tracking server at {team_server.status(arguments.data_dir)}")
        print(f"use it with: export MLFLOW_TRACKING_URI={state['url']}")
    elif arguments.action == "stop":
        stopped = team_server.stop(arguments.data_dir)
        print("stopped " + ", ".join(stopped) if stopped else "nothing was running")
    else:
        print(team_server.status(arguments.data_dir))
    return 0


if __name__ == "__main__":
    exit_command(main())
