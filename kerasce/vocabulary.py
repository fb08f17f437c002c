"""Every word kerasce reads and writes about a run, defined once, each with what it means.

Plain Python (no Keras, no MLflow): the probe, the record, the audit, the comparison and the
docs all import these names. Members are `str`s, so they compare equal to the text stored in
MLflow and read back from it.
"""

from enum import StrEnum


class _Described(StrEnum):
    """A StrEnum whose members carry a one-sentence `meaning`."""

    def __new__(cls, value: str, meaning: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member


class AuditStatus(_Described):
    """What a loss path means for a user: the audit's verdict on one setting."""

    OK = "ok", "the loss is exact and stable on this setting"
    FRAGILE = (
        "fragile",
        "right only because TensorFlow recovers the logits; JAX, PyTorch and mixed precision clip",
    )
    CLIPPED = (
        "clipped",
        "probabilities clipped to [1e-7, 1 - 1e-7]: confidently wrong samples get no gradient",
    )
    NAIVE = "naive", "the textbook formula overflows to NaN/Inf at large logits"
    UNCLASSIFIED = "unclassified", "the probe could not measure this setting; the reason is given"


class LossPath(_Described):
    """The path the compiled loss really takes, as the probe measures it (model/loss_path.py)."""

    FUSED_LOGITS = "fused_logits", "the loss is computed from the logits in one stable step"
    RECOVERED_LOGITS = (
        "recovered_logits",
        "Keras recovered the logits from the probability output, so the loss is exact",
    )
    CLIPPED_PROBABILITIES = (
        "clipped_probabilities",
        "the loss reads clipped probabilities: samples past the clip get no gradient",
    )
    LOG_PROBABILITIES = "log_probabilities", "the loss reads log-probabilities, exact and stable"
    NAIVE = "naive", "the textbook formula overflows to NaN/Inf at large logits"

    @property
    def status(self) -> AuditStatus:
        return _STATUS_BY_PATH[self]


_STATUS_BY_PATH = {
    LossPath.FUSED_LOGITS: AuditStatus.OK,
    LossPath.LOG_PROBABILITIES: AuditStatus.OK,
    LossPath.RECOVERED_LOGITS: AuditStatus.FRAGILE,
    LossPath.CLIPPED_PROBABILITIES: AuditStatus.CLIPPED,
    LossPath.NAIVE: AuditStatus.NAIVE,
}
UNCLASSIFIED = "unclassified"  # a path the probe could not name: stored as "unclassified (reason)"


def status_of(loss_path: str) -> AuditStatus:
    """The audit status of a stored loss path ("unclassified (...)" included)."""
    try:
        return LossPath(loss_path).status
    except ValueError:
        return AuditStatus.UNCLASSIFIED


def unclassified(reason: str) -> str:
    """The stored form of a path the probe could not name."""
    return f"{UNCLASSIFIED} ({reason})"


class OutputKind(_Described):
    """What a model's head outputs."""

    LOGITS = "logits", "unnormalised scores; the loss must be told from_logits=True"
    PROBABILITIES = "probabilities", "softmax or sigmoid outputs in [0, 1]"
    LOG_PROBABILITIES = "log_probabilities", "log-softmax outputs (at most 0)"


class LabelFormat(_Described):
    """How a classification output's labels are written: what its compiled loss expects."""

    SPARSE = "sparse", "one integer class id per sample (sparse categorical cross-entropy)"
    ONE_HOT = (
        "one_hot",
        "one row of C class weights per sample, 1 on the true class (categorical cross-entropy)",
    )
    MULTI_HOT = "multi_hot", "C independent 0/1 labels per sample (binary cross-entropy on C sigmoid units)"
    BINARY = "binary", "one 0/1 label per sample, shape (n,) or (n, 1) (binary cross-entropy on one unit)"


class RunStatus(_Described):
    """MLflow's run states, as kerasce uses them."""

    RUNNING = "RUNNING", "a live process is writing the run (or it died: the next invocation checks)"
    FINISHED = "FINISHED", "trained, evaluated and recorded"
    FAILED = "FAILED", "the cell raised an error; traceback.txt holds it, and a rerun tries again"
    KILLED = "KILLED", "interrupted (Ctrl-C, SIGTERM, a dead worker); a rerun trains the cell again"


class Outcome(_Described):
    """What became of one cell in one grid invocation."""

    FINISHED = "FINISHED", "trained, evaluated and recorded by this invocation"
    FAILED = "FAILED", "the cell raised an error; its run holds the traceback"
    SKIPPED = "SKIPPED", "another invocation finished the cell or is training it right now"


class ExecutorName(_Described):
    """Where a grid's cells run."""

    LOCAL = "local", "this machine, in --jobs worker processes"
    RAY = "ray", "each cell a Ray task on a cluster (pip install -e '.[ray]')"


class NanStatus(_Described):
    """What a run did about non-finite batches."""

    NONE = "none", "no batch had a non-finite loss or gradient"
    STOPPED = "stopped", "training stopped at the end of the first epoch with a non-finite batch"
    CONTINUED = "continued", "non-finite batches happened and training went on"


def nan_status(event_count: int, stopped: bool) -> NanStatus:
    """A run's NaN status from its count of non-finite batches and whether it stopped for them."""
    if not event_count:
        return NanStatus.NONE
    return NanStatus.STOPPED if stopped else NanStatus.CONTINUED
