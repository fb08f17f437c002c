"""The audit command and its two spellings: `kerasce.audit(...)` and `python -m kerasce.audit`."""

import json

import pytest

import kerasce
from kerasce import audit as audit_module
from kerasce.diagnose.auditing import installed_backends


def test_kerasce_audit_is_both_the_module_and_a_function():
    import kerasce.audit

    assert kerasce.audit is audit_module and callable(kerasce.audit)
    assert kerasce.audit.main is audit_module.main


def test_a_bad_file_gives_one_message_and_exit_status_2(tmp_path, capsys):
    assert audit_module.main([str(tmp_path / "missing.keras")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing.keras'}: no such file"


@pytest.fixture(scope="module")
def saved_pair(tmp_path_factory):
    from kerasce.examples.audit_models import cnn_logits, cnn_softmax

    directory = tmp_path_factory.mktemp("pair")
    paths = {"softmax": directory / "softmax.keras", "logits": directory / "logits.keras"}
    cnn_softmax().save(paths["softmax"])
    cnn_logits().save(paths["logits"])
    return paths


@pytest.mark.slow
def test_strict_exit_statuses(saved_pair, capsys):
    # on every backend a softmax head clips under mixed precision; a logits head never does
    assert audit_module.main([str(saved_pair["softmax"]), "--strict"]) == 1
    assert "clipped_probabilities" in capsys.readouterr().out
    assert audit_module.main([str(saved_pair["softmax"])]) == 0
    capsys.readouterr()
    assert audit_module.main([str(saved_pair["logits"]), "--strict", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clipped"] is False


@pytest.mark.slow
def test_every_backend_through_python_m_kerasce_audit(tmp_path):
    """--backends audits each other backend by running `python -m kerasce.audit --json` there."""
    from kerasce.examples.audit_models import mlp_sigmoid

    mlp_sigmoid().save(tmp_path / "sigmoid.keras")
    result = kerasce.audit(tmp_path / "sigmoid.keras", backends=True, precisions=("float32",))
    paths = {r.backend: r.loss_path for r in result.rows}
    assert paths[_backend()] == {"tensorflow": "recovered_logits"}.get(_backend(), "clipped_probabilities")
    assert all(path == "clipped_probabilities" for backend, path in paths.items() if backend != "tensorflow")
    assert len(paths) == len(installed_backends()) >= 2


def _backend():
    import keras

    return keras.backend.backend()
