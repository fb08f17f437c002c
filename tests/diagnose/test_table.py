"""The audit as text: header, one table row per setting, one line per fix."""

import keras

from kerasce.diagnose.auditing import Audit, AuditRow
from kerasce.model.compiled_loss import loss_spec
from kerasce.model.heads import Head


def test_the_text_has_the_head_the_table_and_the_fixes():
    head = Head("out", "out", "Dense", "sigmoid", None, (), 1, loss_spec("binary_crossentropy"))
    rows = [
        AuditRow("out", "tensorflow", "float32", "recovered_logits", "fragile", True, 0.0, 0.0, "fix a"),
        AuditRow(
            "out", "jax", "float32", "clipped_probabilities", "clipped", True, 0.25, float("nan"), "fix b"
        ),
    ]
    text = Audit("m.keras", [head], rows).text()
    head_line = "head: Dense(1, sigmoid) (layer 'out'); loss: BinaryCrossentropy() (from_logits=False)"
    assert f"{head_line}; labels: binary" in text
    assert "| jax        | float32 (as saved) | clipped_probabilities | clipped  | 25.0%" in text
    assert "- jax float32 (clipped): fix b" in text
    assert Audit("m", [head], rows).clipped and not Audit("m", [head], rows[:1]).clipped


def test_several_outputs_get_a_table_each_and_the_skipped_are_named():
    loss = loss_spec(keras.losses.SparseCategoricalCrossentropy())
    heads = [Head(name, name, "Dense", "softmax", None, (), 3, loss) for name in ("a", "b")]
    rows = [
        AuditRow(name, "jax", "float32", "clipped_probabilities", "clipped", True, fix="f") for name in "ab"
    ]
    text = Audit(
        "m", heads, rows, [("c", "its loss mse is not a classification loss")], ["output 'c' not audited"]
    ).text()
    assert "output 'a': head: Dense(3, softmax)" in text and "output 'b': head:" in text
    assert "- b jax float32 (clipped): f" in text and "note: output 'c' not audited" in text
