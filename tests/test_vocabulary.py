"""The vocabulary: every name has its meaning, every loss path its audit status."""

import subprocess
import sys

from kerasce.vocabulary import (
    AuditStatus,
    ExecutorName,
    LossPath,
    NanStatus,
    Outcome,
    RunStatus,
    nan_status,
    status_of,
)


def test_every_name_says_what_it_means():
    for vocabulary in (AuditStatus, ExecutorName, LossPath, NanStatus, Outcome, RunStatus):
        assert all(member.meaning.strip() for member in vocabulary)


def test_a_loss_path_has_a_status_and_an_unmeasured_one_is_unclassified():
    assert [status_of(p) for p in LossPath] == ["ok", "fragile", "clipped", "ok", "naive"]
    assert status_of("unclassified (the probe loss matched nothing)") == AuditStatus.UNCLASSIFIED


def test_the_nan_status_of_a_run():
    assert nan_status(0, stopped=True) == NanStatus.NONE
    assert nan_status(3, stopped=True) == NanStatus.STOPPED
    assert nan_status(3, stopped=False) == NanStatus.CONTINUED


def test_the_vocabulary_imports_no_framework():
    script = "import sys, kerasce.vocabulary; print(sorted({'keras', 'mlflow', 'numpy'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]"
