"""The audit as text: header, one table row per setting, one line per fix."""

from kerasce.diagnose.auditing import Audit, AuditRow
from kerasce.model.heads import Head


def test_the_text_has_the_head_the_table_and_the_fixes():
    head = Head("out", "sigmoid", None, 1, "binary_crossentropy", False)
    rows = [
        AuditRow("tensorflow", "float32", "recovered_logits", "fragile", True, 0.0, 0.0, "fix a"),
        AuditRow("jax", "float32", "clipped_probabilities", "clipped", True, 0.25, float("nan"), "fix b"),
    ]
    text = Audit("m.keras", head, rows).text()
    assert "head: Dense(1, sigmoid) (layer 'out'); loss: binary_crossentropy (from_logits=False)" in text
    assert "| jax        | float32 (as saved) | clipped_probabilities | clipped  | 25.0%" in text
    assert "- jax float32 (clipped): fix b" in text
    assert Audit("m", head, rows).clipped and not Audit("m", head, rows[:1]).clipped
