"""What each measured loss path means for the user, and the concrete change that fixes it."""

from kerasce.model.heads import Head
from kerasce.vocabulary import AuditStatus, LossPath


def loss_class(head: Head) -> str:
    """The Keras loss class to compile with from_logits=True, e.g. SparseCategoricalCrossentropy."""
    if head.units == 1:
        return "BinaryCrossentropy"
    if "crossentropy" not in head.loss:
        return "SparseCategoricalCrossentropy"
    return "".join(part.capitalize() for part in head.loss.split("_"))


def logits_fix(head: Head) -> str:
    """Stable on every backend and precision: a linear head and the fused with-logits loss."""
    if head.activation_layer:
        linear = f"remove the {head.activation_layer!r} layer"
    else:
        linear = f"make {head.dense!r} linear (no activation)"
    loss = f"{loss_class(head)}(from_logits=True)"
    return f"{linear} and compile with {loss}; apply {head.activation} at inference"


def float32_head_fix(head: Head, precision: str) -> str:
    """The TensorFlow mixed-precision guide's fix: the head's activation computed in float32."""
    layers = f"{head.dense!r}" + (f" and {head.activation_layer!r}" if head.activation_layer else "")
    return f'under {precision}, pass dtype="float32" to {layers} so the loss sees the uncast output'


def fix_for(head: Head, row, rows) -> str | None:
    """The fix for one audited row (None when it needs none); `rows` are its siblings, so a
    mixed-precision row can tell whether float32 recovers the logits on the same backend."""
    if row.status == AuditStatus.OK:
        return None
    if row.status == AuditStatus.UNCLASSIFIED:
        return head.wiring_problem() or "the probe matched no known path: please report this model"
    if row.status == AuditStatus.FRAGILE:
        return (
            "works here only because TensorFlow recovers the logits; to keep it on JAX, PyTorch "
            f"and mixed precision: {logits_fix(head)}"
        )
    float32_recovers = any(
        r.backend == row.backend and r.precision == "float32" and r.loss_path == LossPath.RECOVERED_LOGITS
        for r in rows
    )
    if row.status == AuditStatus.CLIPPED and row.precision != "float32" and float32_recovers:
        return f"{float32_head_fix(head, row.precision)}; or {logits_fix(head)}"
    return logits_fix(head)
