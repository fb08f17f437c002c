"""What the audit refuses (with one clear message each) and what it measures on the user's data."""

import keras
import numpy as np
import pytest

import kerasce.api
from kerasce.diagnose.auditing import AuditError, audit, load_model_file
from kerasce.diagnose.loading import load_data
from kerasce.model.heads import find_heads


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


def test_data_files_need_x_and_y_in_the_losss_label_format(tmp_path):
    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(3, activation="softmax")(x))
    model.compile(loss="categorical_crossentropy")
    heads, _ = find_heads(model)
    np.savez(tmp_path / "d.npz", features=np.zeros((2, 4)))
    with pytest.raises(AuditError, match=r"needs arrays named \['x'\]"):
        load_data(tmp_path / "d.npz", model, heads)
    np.savez(tmp_path / "ids.npz", x=np.zeros((2, 4)), y=np.array([2, 0]))
    assert (
        load_data(tmp_path / "ids.npz", model, heads)[1][heads[0].output].tolist()
        == np.eye(3)[[2, 0]].tolist()
    )
    np.savez(tmp_path / "bad.npz", x=np.zeros((2, 4)), y=np.array([3, 0]))
    with pytest.raises(AuditError, match="class id 3 is out of range"):
        load_data(tmp_path / "bad.npz", model, heads)
    np.savez(tmp_path / "shape.npz", x=np.zeros((2, 5)), y=np.array([1, 0]))
    with pytest.raises(AuditError, match=r"array 'x' has shape \(2, 5\); the model takes \(n, 4\)"):
        load_data(tmp_path / "shape.npz", model, heads)


def test_the_dead_zone_and_non_finite_outputs_on_the_users_data():
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(3, activation="softmax", name="out")(x))
    model.compile(loss="sparse_categorical_crossentropy")
    model.get_layer("out").set_weights([np.eye(3, dtype="float32") * 50, np.zeros(3, "float32")])
    features = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype="float32")
    labels = np.array([0, 0, 2, 1])  # two samples confidently wrong: p(true) = exp(-50)
    result = kerasce.api.audit(model, data=(features, labels), precisions=("float32",))
    assert result.rows[0].clip_saturation_rate == 0.5 and result.rows[0].nonfinite_rate == 0.0
