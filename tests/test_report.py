"""The findings report needs its claim experiments, and says which command makes each."""

import pytest

from kerasce.analyze.findings import write_report
from kerasce.errors import KerasceError
from kerasce.report import main
from kerasce.tracking.writer import Tracker


def test_missing_claim_experiments_name_their_commands(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    Tracker(uri, "binary-heads")
    with pytest.raises(KerasceError, match="experiments/imbalance_pr.toml.*experiments/naive_overflow.toml"):
        write_report(uri, output=tmp_path / "FINDINGS.md")
    assert not (tmp_path / "FINDINGS.md").exists()


def test_the_command_reports_the_problem_and_exits_2(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert main(["--tracking-uri", uri, "--output", str(tmp_path / "F.md")]) == 2
    assert "error: no store at" in capsys.readouterr().err and not (tmp_path / "mlflow.db").exists()
    Tracker(uri, "binary-heads")
    assert main(["--tracking-uri", uri, "--output", str(tmp_path / "F.md")]) == 2
    assert "the report needs these experiments first" in capsys.readouterr().err


def test_a_claim_whose_runs_never_reached_its_regime_is_not_tested():
    import pandas as pd

    from kerasce.analyze.claims import CLAIMS
    from kerasce.analyze.findings import judge, with_regime

    claim = next(c for c in CLAIMS if c.key == "imbalance_pr")
    table = pd.DataFrame(
        {
            "formulation": ["log_softmax_nll", "clipped_softmax_ce"],
            "loss_path": ["log_probabilities", "clipped_probabilities"],
            "precision": "float32",
            "model.logit_scale": 5.0,
            "peak_clip_saturation_rate_mean": [0.0, 0.0],
        }
    )
    table, note = with_regime(claim, table)
    verdict, reason = judge(claim, table, pd.DataFrame(), note)
    assert verdict == "not tested" and "samples in the clipped dead zone" in reason
