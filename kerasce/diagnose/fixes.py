"""What each measured loss path means for the user, and the concrete change that fixes it.

Every sentence is about what was measured: a fix for a mixed-precision row mentions float32 only
when the float32 row of the same backend recovered the logits, and a fragile row names the
settings that were measured to clip, not the ones that might.
"""

from kerasce.model.heads import Head
from kerasce.model.loss_spec import BINARY_FOCAL, CATEGORICAL_FOCAL, CLASS_NAMES, SIGMOID_FAMILIES
from kerasce.model.probe_reading import DOUBLE_NORMALISATION, LOGITS_AS_PROBABILITIES
from kerasce.vocabulary import AuditStatus, LossPath, OutputKind

FIX_COMMAND = "python -m kerasce.audit MODEL --fix OUT.keras"


def loss_class(head: Head) -> str:
    """The Keras loss class to compile with from_logits=True, e.g. SparseCategoricalCrossentropy."""
    if head.loss.family in CLASS_NAMES:
        return CLASS_NAMES[head.loss.family]
    if head.units == 1 or head.activation == "sigmoid":
        return "BinaryCrossentropy"
    return "SparseCategoricalCrossentropy"


def logits_loss(head: Head) -> str:
    """The same loss with from_logits=True and its other arguments, as a constructor call."""
    if head.loss.family in CLASS_NAMES:
        return head.loss.describe(from_logits=True)
    return f"{loss_class(head)}(from_logits=True)"


def inference_activation(head: Head) -> str:
    """The activation that turns the repaired head's logits into the original's outputs."""
    if head.output_kind != OutputKind.LOGITS:
        return head.activation
    return "sigmoid" if head.loss.family in SIGMOID_FAMILIES or head.units == 1 else "softmax"


def make_linear(head: Head) -> str:
    if head.activation_layer:
        return f"remove the {head.activation_layer!r} layer"
    return f"make {head.logits_layer!r} linear (no activation)"


def logits_fix(head: Head) -> str:
    """Stable on every backend and precision: a linear head and the fused with-logits loss."""
    if head.output_kind == OutputKind.LOGITS:
        return f"compile with {logits_loss(head)}; apply {inference_activation(head)} at inference"
    return f"{make_linear(head)} and compile with {logits_loss(head)}; apply {head.activation} at inference"


def float32_head_fix(head: Head, precision: str) -> str:
    """The TensorFlow mixed-precision guide's fix: the head's activation computed in float32."""
    layers = f"{head.logits_layer!r}" + (f" and {head.activation_layer!r}" if head.activation_layer else "")
    return f'under {precision}, pass dtype="float32" to {layers} so the loss sees the uncast output'


def _focal_clipping(head: Head, backend: str) -> str | None:
    """Keras' focal losses make their probabilities inside the loss and clip them, from_logits=True
    included (the binary one except on TensorFlow, which recovers the logits of its inner sigmoid)."""
    family = head.loss.family
    if family == CATEGORICAL_FOCAL or (family == BINARY_FOCAL and backend != "tensorflow"):
        return (
            f"Keras' {CLASS_NAMES[family]} applies the activation inside the loss and clips the "
            f"probabilities even with from_logits=True{' on ' + backend if family == BINARY_FOCAL else ''}: "
            "no head wiring avoids it; a focal loss written with log-softmax (log-sigmoid) does"
        )
    return None


def _clipping_elsewhere(row, rows) -> str:
    clipped = [
        f"{r.backend} {r.precision}" for r in rows if r.status in (AuditStatus.CLIPPED, AuditStatus.NAIVE)
    ]
    if clipped:
        return f"measured to clip under {', '.join(clipped)}"
    return "Keras' JAX and PyTorch backends never recover logits"


def _unclassified_fix(head: Head, row) -> str:
    if DOUBLE_NORMALISATION in row.loss_path:
        already = "(the loss already has from_logits=True)"
        return f"{make_linear(head)} {already}; apply {head.activation} at inference"
    if LOGITS_AS_PROBABILITIES in row.loss_path:
        if head.output_kind == OutputKind.LOG_PROBABILITIES:  # log-softmax outputs are logits to the loss
            return f"{logits_fix(head)}; or keep the log-softmax head and compile with {logits_loss(head)}"
        return logits_fix(head)
    if head.loss.family is None:
        return (
            "kerasce measures Keras' cross-entropy losses (sparse, categorical, binary, focal); "
            f"it cannot tell which path {head.loss.name} takes"
        )
    return head.wiring_problem() or "the probe matched no known path: please report this model"


def fix_for(head: Head, row, rows) -> str | None:
    """The fix for one audited row (None when it needs none); `rows` are the same output's rows,
    so a mixed-precision row can tell whether float32 recovers the logits on the same backend."""
    if row.status == AuditStatus.OK:
        return None
    if row.status == AuditStatus.UNCLASSIFIED:
        return _unclassified_fix(head, row)
    focal = _focal_clipping(head, row.backend)
    if focal:
        return focal
    if row.status == AuditStatus.FRAGILE:
        return (
            "right here only because TensorFlow recovers the logits behind the activation "
            f"({_clipping_elsewhere(row, rows)}); stable everywhere: {logits_fix(head)}"
        )
    float32_recovers = any(
        r.backend == row.backend and r.precision == "float32" and r.loss_path == LossPath.RECOVERED_LOGITS
        for r in rows
    )
    if row.status == AuditStatus.CLIPPED and row.precision != "float32" and float32_recovers:
        return f"{float32_head_fix(head, row.precision)}; or {logits_fix(head)}"
    return logits_fix(head)
