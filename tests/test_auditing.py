"""What the audit refuses (with one clear message each) and what it measures on the user's data."""

import keras
import numpy as np
import pytest

import kerasce
from kerasce.diagnose.auditing import AuditError, audit, load_arrays, load_model_file


def test_a_missing_file_or_one_that_is_no_keras_model_is_named(tmp_path):
    with pytest.raises(AuditError, match="no such file"):
        load_model_file(tmp_path / "missing.keras")
    bad = tmp_path / "bad.keras"
    bad.write_text("not a model")
    with pytest.raises(AuditError, match="not a Keras model file"):
        load_model_file(bad)


@pytest.mark.slow
def test_a_model_saved_without_a_compiled_loss_is_refused(tmp_path):
    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(3, activation="softmax")(x))
    model.save(tmp_path / "uncompiled.keras")
    with pytest.raises(AuditError, match="has no compiled loss"):
        audit(tmp_path / "uncompiled.keras")


def test_data_files_need_x_and_y(tmp_path):
    np.savez(tmp_path / "d.npz", features=np.zeros((2, 4)))
    with pytest.raises(AuditError, match="needs arrays named 'x' and 'y'"):
        load_arrays(tmp_path / "d.npz")
    np.savez(tmp_path / "onehot.npz", x=np.zeros((2, 4)), y=np.eye(3)[[2, 0]])
    assert load_arrays(tmp_path / "onehot.npz")[1].tolist() == [2, 0]


def test_the_dead_zone_and_non_finite_outputs_on_the_users_data():
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(3, activation="softmax", name="out")(x))
    model.compile(loss="sparse_categorical_crossentropy")
    model.get_layer("out").set_weights([np.eye(3, dtype="float32") * 50, np.zeros(3, "float32")])
    features = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype="float32")
    labels = np.array([0, 0, 2, 1])  # two samples confidently wrong: p(true) = exp(-50)
    result = kerasce.audit(model, data=(features, labels), precisions=("float32",))
    assert result.rows[0].clip_saturation_rate == 0.5 and result.rows[0].nonfinite_rate == 0.0
