"""The findings report needs its claim experiments, and says which command makes each."""

import pytest

from kerasce.analyze.report import write_report
from kerasce.errors import KerasceError
from kerasce.report import main
from kerasce.tracking.writer import Tracker


def test_missing_claim_experiments_name_their_commands(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    Tracker(uri, "binary-heads")
    with pytest.raises(KerasceError, match="experiments/imbalance_pr.toml.*experiments/naive_overflow.toml"):
        write_report(uri, tmp_path / "FINDINGS.md")
    assert not (tmp_path / "FINDINGS.md").exists()


def test_the_command_reports_the_problem_and_exits_2(tmp_path, capsys):
    assert (
        main(["--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--output", str(tmp_path / "F.md")])
        == 2
    )
    assert "the report needs these experiments first" in capsys.readouterr().err
