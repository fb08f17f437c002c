"""python -m kerasce.compare over the shared store of finished runs."""

import re

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from kerasce.analyze.comparison import finished_cells
from kerasce.compare import main
from kerasce.tracking.reader import StoreReader


def runs_of(uri):
    return finished_cells(StoreReader(uri).runs(["cmp"]))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["csv", "markdown", "html"])
def test_every_format_is_written_and_parses(finished_store, tmp_path, capsys, fmt):
    code = main(
        [
            "--experiment",
            "cmp",
            "--tracking-uri",
            finished_store,
            "--format",
            fmt,
            "--output",
            str(tmp_path),
            "--no-log",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:3] == ["cmp: 6 runs in 3 groups", "", "In short:"]
    assert "recovered_logits" in "".join(printed)
    assert max(len(line) for line in printed if not line.startswith("wrote to ")) <= 100
    if fmt == "csv":
        table = pd.read_csv(tmp_path / "comparison.csv")
        assert len(table) == 3 and {"test_loss_mean", "test_loss_ci_low", "nan_rate"} <= set(table.columns)
        # softmax_ce and logits_ce on the same seeds: float32 on TensorFlow recovers the logits
        paired = pd.read_csv(tmp_path / "paired.csv")
        assert paired[["formulation", "reference", "n_pairs"]].values.tolist() == [
            ["softmax_ce", "logits_ce", 2]
        ]
        assert paired["test_loss_identical"].all() and paired["test_loss_diff_mean"].eq(0).all()
    elif fmt == "markdown":
        markdown = (tmp_path / "comparison.md").read_text()
        # the answer first: probabilities read off the two wirings differ in the last bits only
        assert markdown.startswith("# cmp: 6 runs in 3 groups\n\n## Summary\n\n")
        assert "- digits — ≈ 0 (float rounding): softmax_ce\n" in markdown
        paired = markdown[markdown.index("Paired: each wiring") :].splitlines()
        assert "| softmax_ce " in paired[-1] and "| identical " in paired[-1]
    else:
        page = (tmp_path / "comparison.html").read_text()
        assert page.startswith("<!doctype html>") and page.index('id="summary"') < page.index("<table")
        sources = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
        assert "http" not in "".join(sources) and "<script src" not in page and "<link" not in page
    figures = ("digits_differences.png", "digits_pr_curves.png", "breast_cancer_loss_curves.png")
    for figure in figures:
        assert (tmp_path / figure).read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "breast_cancer_differences.png").exists()  # logit_bce has nothing to differ from


@pytest.mark.slow
def test_the_comparison_is_logged_as_a_run(finished_store, capsys):
    assert main(["--experiment", "cmp", "--tracking-uri", finished_store, "--no-figures"]) == 0
    client = MlflowClient(finished_store)
    experiment = client.get_experiment_by_name("cmp").experiment_id
    logged = [r for r in client.search_runs([experiment]) if r.data.tags.get("kerasce.kind") == "comparison"]
    assert len(logged) == 1
    assert {"comparison.csv", "comparison.md", "comparison.html"} <= {
        a.path for a in client.list_artifacts(logged[0].info.run_id)
    }
    # a second comparison ignores the first one's run
    assert main(["--experiment", "cmp", "--tracking-uri", finished_store, "--no-figures", "--no-log"]) == 0
    assert "6 runs in 3 groups" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, message",
    [
        (["--experiment", "empty"], "no finished kerasce runs"),
        (["--experiment", "nowhere"], "no experiment named 'nowhere'.*cmp"),
        (
            ["--experiment", "cmp", "--metric", "test_happiness"],
            "no run has metric test_happiness.*test_loss",
        ),
        (["--experiment", "cmp", "--group-by", "formulation"], "different datasets.*breast_cancer, digits"),
        (["--experiment", "cmp", "--group-by", "data.dataset,colour"], "'colour' is not a param"),
    ],
)
def test_nothing_to_compare_is_a_message_not_a_traceback(finished_store, capsys, args, message):
    assert main([*args, "--tracking-uri", finished_store, "--no-log", "--no-figures"]) == 2
    assert re.search(message, capsys.readouterr().err)


@pytest.mark.slow
def test_filter_selects_runs(finished_store, capsys):
    code = main(
        [
            "--experiment",
            "cmp",
            "--tracking-uri",
            finished_store,
            "--no-log",
            "--no-figures",
            "--filter",
            "params.formulation = 'softmax_ce'",
        ]
    )
    assert code == 0 and "2 runs in 1 groups" in capsys.readouterr().out
