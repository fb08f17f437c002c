"""The audit command and its two spellings: `kerasce.api.audit(...)` and `python -m kerasce.audit`."""

import json

import numpy as np
import pytest

import kerasce.api
from kerasce import audit as audit_module
from kerasce.diagnose.auditing import installed_backends


def test_importing_the_audit_command_leaves_its_module_a_plain_module():
    import kerasce.audit

    assert type(kerasce.audit) is type(json) and kerasce.audit is audit_module


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
    result = kerasce.api.audit(tmp_path / "sigmoid.keras", backends=True, precisions=("float32",))
    paths = {r.backend: r.loss_path for r in result.rows}
    assert paths[_backend()] == {"tensorflow": "recovered_logits"}.get(_backend(), "clipped_probabilities")
    assert all(path == "clipped_probabilities" for backend, path in paths.items() if backend != "tensorflow")
    assert len(paths) == len(installed_backends()) >= 2


def _backend():
    import keras

    return keras.backend.backend()


@pytest.fixture(scope="module")
def saved_sigmoid(tmp_path_factory):
    from kerasce.examples.audit_models import mlp_sigmoid

    path = tmp_path_factory.mktemp("sigmoid") / "sigmoid.keras"
    mlp_sigmoid().save(path)
    return path


def _fixed(model_path, out, capsys):
    assert audit_module.main([str(model_path), "--fix", str(out), "--precisions", "float32", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["repair"]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["softmax", "sigmoid"])
def test_fix_writes_a_repaired_model_that_proves_itself(which, saved_pair, saved_sigmoid, tmp_path, capsys):
    import keras
    import numpy as np

    from kerasce.diagnose.repair import probabilities_path, random_features

    original_path = saved_pair["softmax"] if which == "softmax" else saved_sigmoid
    out = tmp_path / "fixed.keras"
    repair = _fixed(original_path, out, capsys)
    (difference,) = repair["max_probability_difference"].values()
    assert difference <= 1e-6 and repair["check_inputs"] == "64 seeded random inputs"
    reaudited = {(r["backend"], r["precision"]): r["loss_path"] for r in repair["reaudit"]}
    assert len(reaudited) == 3 * len(installed_backends()) and set(reaudited.values()) == {"fused_logits"}
    fixed, original = keras.models.load_model(out), keras.models.load_model(original_path)
    assert fixed.loss.get_config()["from_logits"] is True and fixed.layers[-1].activation.__name__ == "linear"
    probabilities = keras.models.load_model(probabilities_path(out))
    features = random_features(original, n=16, seed=1)
    np.testing.assert_allclose(
        probabilities.predict(features, verbose=0), original.predict(features, verbose=0), atol=1e-6
    )


@pytest.mark.slow
def test_fix_refuses_what_wiring_cannot_repair_and_writes_nothing(tmp_path, capsys):
    from real_models import categorical_focal_logits

    categorical_focal_logits().save(tmp_path / "focal.keras")
    arguments = [
        str(tmp_path / "focal.keras"),
        "--precisions",
        "float32",
        "--fix",
        str(tmp_path / "out.keras"),
    ]
    assert audit_module.main(arguments) == 2
    assert "CategoricalFocalCrossentropy clips its probabilities" in capsys.readouterr().err
    assert not (tmp_path / "out.keras").exists()


@pytest.mark.slow
def test_bad_input_exits_2_with_one_line_each(saved_pair, tmp_path, capsys):
    model = str(saved_pair["softmax"])
    np.savez(tmp_path / "wrong.npz", x=np.zeros((3, 5)), y=np.zeros(3))
    cases = [
        ([model, "--fix", str(tmp_path / "out.h5")], "give the path of a .keras file"),
        ([model, "--fix", model], "is the model itself"),
        ([model, "--precisions", "float64"], "--precisions"),
        ([model, "--data", str(tmp_path / "wrong.npz")], "array 'x' has shape (3, 5)"),
        ([model, "--import", "no_such_module_here"], "--import no_such_module_here: cannot import it"),
        ([str(tmp_path)], "is a directory"),
    ]
    for arguments, message in cases:
        assert audit_module.main(arguments) == 2, arguments
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1


def test_an_internal_error_exits_70_with_the_traceback_in_a_file(monkeypatch, tmp_path, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("a kerasce bug")

    monkeypatch.setattr(kerasce.api, "audit", broken)  # kerasce's own function, standing in for a bug
    (tmp_path / "m.keras").write_bytes(b"")  # a file: the paths are checked before anything runs
    assert audit_module.main([str(tmp_path / "m.keras")]) == 70
    err = capsys.readouterr().err.strip()
    assert "internal error in kerasce audit (RuntimeError: a kerasce bug)" in err and "traceback is in" in err


@pytest.mark.slow
def test_import_loads_a_model_with_the_users_layers(tmp_path):
    """In fresh processes: without --import the user's class cannot load (exit 2, with the hint);
    with it, the model is audited under every precision (its sublayers rebuilt under each)."""
    import os
    import subprocess
    import sys

    from user_layers import classifier

    classifier().save(tmp_path / "mine.keras")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.path.dirname(__file__)])}
    command = [sys.executable, "-m", "kerasce.audit", str(tmp_path / "mine.keras"), "--json"]
    refused = subprocess.run(command, capture_output=True, text=True, env=env)
    assert refused.returncode == 2 and "pass --import MODULE" in refused.stderr.strip().splitlines()[-1]
    audited = subprocess.run([*command, "--import", "user_layers"], capture_output=True, text=True, env=env)
    assert audited.returncode == 0, audited.stderr
    rows = json.loads(audited.stdout)["rows"]
    assert [r["precision"] for r in rows] == ["float32", "mixed_float16", "mixed_bfloat16"]
    assert all(not r["loss_path"].startswith("unclassified") for r in rows)
