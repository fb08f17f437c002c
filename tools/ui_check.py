"""Look at kerasce runs the way a person does: a real `mlflow server`, headless Chromium, screenshots.

  make ui-check                                                        # newest experiment in mlruns/
  .venv/bin/python tools/ui_check.py --store sqlite:////tmp/uicheck/mlflow.db --experiment smoke

Prints one PASS/FAIL line per check (with what the page showed) and the screenshot folder; exits 1
when a check fails. Needs the `playwright` package and a system Chromium (`make ui-check` installs
both); it never downloads a browser of its own.
"""

import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from mlflow.tracking import MlflowClient

from kerasce.tracking.schema import Artifact, Kind, Tag
from kerasce.tracking.store import DEFAULT_TRACKING_URI, artifact_root

UI_PAGE_ROWS = 100  # runs the UI's table shows before it is scrolled
SERVER_START_SECONDS = 90  # a cold `mlflow server` on a busy 2-core machine takes ~10-30 s
PAGE_SECONDS = 60  # the UI's first load fetches a few MB of JavaScript from the server
VIEWPORT = {"width": 1600, "height": 1100}  # wide enough for the run page's two columns
SETTLE_MS = 2000  # after the awaited text: sections that load in a second request
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default=DEFAULT_TRACKING_URI, help="backend store (default: %(default)s)")
    parser.add_argument("--experiment", help="experiment name (default: the newest experiment)")
    parser.add_argument("--out", type=Path, help="screenshot folder (default: a new temporary folder)")
    return parser.parse_args(argv)


def experiment_url(base: str, experiment_id: str, workflow_type: str | None = "machine_learning") -> str:
    """The link kerasce prints; workflow_type=None is what a browser gets from a bare link."""
    url = f"{base}/#/experiments/{experiment_id}"
    return f"{url}?workflowType={workflow_type}" if workflow_type else url


def run_url(base: str, experiment_id: str, run_id: str) -> str:
    """A run's page; with the workflow type, else MLflow 3.17 frames it as a GenAI evaluation run."""
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}?workflowType=machine_learning"


def server_command(store: str, port: int) -> list[str]:
    """`mlflow server` on loopback; artifacts beside a SQLite store, exactly where kerasce puts them."""
    command = [str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--backend-store-uri", store, "--workers", "1"]
    root = artifact_root(store)
    return command + (["--default-artifact-root", root] if root else [])


@contextlib.contextmanager
def mlflow_server(store: str, log_path: Path):
    """Yield the base URL of a server that answers /health; stop it however the block ends."""
    with socket.socket() as sock:  # a free port: the OS picks one, and nobody else asks for it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with open(log_path, "w") as log:
        # No GenAI job runners (eight huey processes by default): nothing here uses them.
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        server = subprocess.Popen(server_command(store, port), stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_for_health(f"http://127.0.0.1:{port}", server, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def wait_for_health(base: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.time() + SERVER_START_SECONDS
    while time.time() < deadline:
        if server.poll() is not None:
            sys.exit(f"mlflow server exited with {server.returncode}; see {log_path}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/health", timeout=2).ok:
                return
        time.sleep(0.5)
    sys.exit(f"mlflow server gave no /health within {SERVER_START_SECONDS} s; see {log_path}")


def pick_runs(client: MlflowClient, name: str | None):
    """(experiment, the first cell run and its siblings, their grid run or None), by kerasce's tags."""
    newest = client.search_experiments(order_by=["creation_time DESC"], max_results=1)
    experiment = client.get_experiment_by_name(name) if name else next(iter(newest), None)
    if experiment is None:
        sys.exit(f"--experiment: no experiment named {name!r}" if name else "the store has no experiment")
    query = f"tags.`{Tag.KIND}` = '{Kind.CELL}'"
    cells = client.search_runs([experiment.experiment_id], query, order_by=["attributes.start_time ASC"])
    if not cells:
        sys.exit(f"experiment {experiment.name!r} has no run tagged {Tag.KIND}={Kind.CELL}")
    parent_id = cells[0].data.tags.get(Tag.PARENT_RUN)
    siblings = [run for run in cells if run.data.tags.get(Tag.PARENT_RUN) == parent_id]
    return experiment, siblings, client.get_run(parent_id) if parent_id else None


def chromium_path() -> str:
    """The system's Chromium: Playwright's own browser builds are a download this machine can't make."""
    found = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    return found or sys.exit(f"no Chromium ({', '.join(CHROMIUM_NAMES)}); `make ui-check` installs it")


def open_page(context, url: str, wait_text: str, shot: Path):
    page = context.new_page()
    page.goto(url)
    settle(page, wait_text, shot)
    return page


def settle(page, wait_text: str, shot: Path) -> None:
    """Wait until wait_text is on the page (the UI renders after its API calls), then shoot."""
    page.get_by_text(wait_text).first.wait_for(timeout=PAGE_SECONDS * 1000)
    # The UI keeps polling, so "network idle" never comes: give the rest of the page a moment.
    page.wait_for_timeout(SETTLE_MS)
    page.screenshot(path=str(shot), full_page=True)


def section(text: str, title: str, until: str) -> str:
    """The run page's text after the line starting `title`, up to the line starting `until`."""
    end = text.find(f"\n{until}")
    start = text.rfind(f"\n{title}", 0, end if end >= 0 else len(text))
    if start < 0:
        return f"(no {title} section)"
    body = text[text.find("\n", start + 1) : end if end > start else None]
    return " ".join(body.split()) or "(empty)"


def report(name: str, passed: bool, saw: str) -> bool:
    print(f"{'PASS' if passed else 'FAIL'}  {name}: {saw}", flush=True)
    return passed


def check_runs_table(context, base: str, experiment, cells: list, grid, out: Path) -> list[bool]:
    """The link kerasce prints shows the runs table, and the grid run opens onto its cells."""
    url = experiment_url(base, experiment.experiment_id)
    page = open_page(context, url, (grid or cells[0]).info.run_name, out / "1-runs.png")
    route = page.url.split("#", 1)[-1].split("?")[0]
    on_runs = "/runs" in route and "Run Name" in page.inner_text("body")
    results = [report("runs table, not GenAI Overview/Traces", on_runs, f"#{route}, title {page.title()!r}")]
    if grid is None:
        return results + [report("grid run nests its cells", False, "the cell run has no parent run")]
    row = page.get_by_role("row").filter(has_text=grid.info.run_name).first
    if row.get_by_role("button").count():
        row.get_by_role("button").first.click()  # the grid row's only button is its +/- expander
        settle(page, cells[-1].info.run_name, out / "2-runs-expanded.png")
    shown = [run.info.run_name for run in cells if run.info.run_name in page.inner_text("body")]
    expected = min(len(cells), UI_PAGE_ROWS)  # the table loads more rows only when scrolled
    saw = f"{len(shown)} of {len(cells)} cells under {grid.info.run_name!r} after expanding it"
    return results + [report("grid run nests its cells", len(shown) >= expected, saw)]


def check_run_page(page, cell, out: Path) -> list[bool]:
    """What a person reading one cell's page needs: its note, data, source, loss path, metrics."""
    text, tags = page.inner_text("body"), cell.data.tags
    # The UI renders the note's Markdown: compare words, not emphasis marks
    note = " ".join(tags.get("mlflow.note.content", "").replace("**", "").split())
    description = section(text, "Description", "Metrics")
    source = section(text, "Source", "Logged models")
    loss_path = f"{Tag.LOSS_PATH} : {tags.get(Tag.LOSS_PATH)}"
    test_loss = re.search(r"test_loss (\S+)", section(text, "Metrics", "Parameters"))
    if test_loss:  # the Metrics table sits below the fold, in a pane of its own that scrolls
        page.get_by_text("test_loss", exact=True).first.scroll_into_view_if_needed()
        page.screenshot(path=str(out / "3-run-metrics.png"))
    return [
        report("description (note)", bool(note) and note in description, f"shows {description!r}"),
        check_datasets(page, text, cell),
        report("source", source not in ("—", "-", "(empty)"), f"Source shows {source!r}"),
        report(Tag.LOSS_PATH, loss_path in " ".join(text.split()), f"looked for {loss_path!r} in Tags"),
        report("metrics", bool(test_loss), f"test_loss {test_loss[1] if test_loss else 'not in Metrics'}"),
    ]


def check_datasets(page, text: str, cell) -> bool:
    """Each dataset input's name and the three split contexts, the hidden ones ("+2") opened too."""
    shown = section(text, "Datasets", "Tags")
    more = page.get_by_text(re.compile(r"^\+\d+$"))  # the UI shows one dataset, then "+N"
    if more.count():
        more.first.click()
        page.get_by_role("dialog").first.wait_for(timeout=PAGE_SECONDS * 1000)
        shown += " " + " ".join(page.get_by_role("dialog").first.inner_text().split())
        page.keyboard.press("Escape")
    names = {i.dataset.name for i in cell.inputs.dataset_inputs} or {cell.data.tags.get(Tag.DATASET)}
    wanted = sorted(names) + ["train", "validation", "test"]
    missing = [word for word in wanted if word.lower() not in shown.lower()]
    return report("datasets with contexts", not missing, f"Datasets shows {shown!r}; missing {missing}")


def check_artifact(page, out: Path) -> bool:
    """The run's PR curve opens in the Artifacts tab as an image the browser actually decoded."""
    from playwright.sync_api import TimeoutError as PageTimeout

    page.get_by_role("tab", name="Artifacts").first.click()
    try:  # the file tree loads after the click; a run without figures (train.figures=false) has none
        settle(page, Artifact.PR_FIGURE, out / "4-artifacts.png")
    except PageTimeout:
        return report(f"artifact {Artifact.PR_FIGURE}", False, "not in the Artifacts tab")
    page.get_by_text(Artifact.PR_FIGURE, exact=True).first.click()
    image = page.locator("img[src^='blob:']").first  # the UI draws a fetched artifact from a blob
    image.wait_for(timeout=PAGE_SECONDS * 1000)
    page.screenshot(path=str(out / "4-artifacts.png"), full_page=True)
    width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    return report(f"artifact {Artifact.PR_FIGURE}", width > 0, f"shown as a {width}x{height} image")


def look_at_bare_link(browser, base: str, experiment, out: Path) -> None:
    """What a new browser (no remembered workflow type) gets from a link without workflowType.
    Shown, not checked: MLflow 3.17's UI takes the view from the URL or the browser's remembered
    choice and ignores the experiment's `mlflow.experimentKind` tag, which is why kerasce's links
    carry `workflowType=machine_learning`."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(experiment_url(base, experiment.experiment_id, workflow_type=None))
    page.wait_for_url(re.compile(r"#/experiments/[^/?]+/"), timeout=PAGE_SECONDS * 1000)  # redirected
    settle(page, experiment.name, out / "5-bare-link.png")
    route = page.url.split("#", 1)[-1]
    print(f"INFO  a link without workflowType lands on #{route}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="kerasce-ui-check-"))
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright  # installed by `make ui-check`, not a dependency

    with mlflow_server(args.store, out / "server.log") as base, sync_playwright() as playwright:
        experiment, cells, grid = pick_runs(MlflowClient(base), args.experiment)
        print(f"{experiment.name}: {experiment_url(base, experiment.experiment_id)}")
        browser = playwright.chromium.launch(executable_path=chromium_path())
        try:
            context = browser.new_context(viewport=VIEWPORT)
            results = check_runs_table(context, base, experiment, cells, grid, out)
            url = run_url(base, experiment.experiment_id, cells[0].info.run_id)
            run_page = open_page(context, url, cells[0].info.run_name, out / "3-run.png")
            results += check_run_page(run_page, cells[0], out)
            results.append(check_artifact(run_page, out))
            look_at_bare_link(browser, base, experiment, out)
        finally:
            browser.close()
    print(f"{results.count(True)} passed, {results.count(False)} failed; screenshots in {out}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
