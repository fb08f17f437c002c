"""Every name kerasce stores in MLflow, defined once, and the plain shapes of what a run holds.

Nothing here imports MLflow: the record builder fills these shapes, the writer stores them, the
reader and the comparison find runs by these names.
"""

from dataclasses import dataclass, field

TAG_PREFIX = "kerasce."


class Tag:
    """Tag keys."""

    KIND = "kerasce.kind"  # one of Kind
    HEARTBEAT = "kerasce.heartbeat"  # time.time() of the last finished epoch
    HOST = "kerasce.host"
    PID = "kerasce.pid"
    PID_START = "kerasce.pid_start"
    CELL_HASH = "kerasce.cell_hash"  # the cell's identity: resolved config + dataset fingerprint
    DATASET_FINGERPRINT = "kerasce.dataset_fingerprint"
    DATASET = "kerasce.dataset"
    FORMULATION = "kerasce.formulation"
    PRECISION = "kerasce.precision"
    LOSS_PATH = "kerasce.loss_path"
    NAN_STATUS = "kerasce.nan_status"
    DETERMINISTIC = "kerasce.deterministic"
    WEIGHTS_HASH = "kerasce.weights_hash"
    UNDEFINED_METRICS = "kerasce.undefined_metrics"
    CELLS = "kerasce.cells"
    SKIPPED_CELLS = "kerasce.skipped_cells"
    FAILED_CELLS = "kerasce.failed_cells"
    VERSION = "kerasce.version."  # + package name
    KERAS_BACKEND = "kerasce.keras_backend"
    HEAD = "kerasce.head"  # a user's head as the audit reads it (kerasce.MlflowLogger)
    ONEDNN = "kerasce.onednn"
    GIT_COMMIT = "kerasce.git_commit"
    GIT_DIRTY = "kerasce.git_dirty"
    PARENT_RUN = "mlflow.parentRunId"
    RUN_NAME = "mlflow.runName"
    # MLflow's own conventions, which its UI reads
    NOTE = "mlflow.note.content"  # the run's Description
    SOURCE_NAME = "mlflow.source.name"
    SOURCE_TYPE = "mlflow.source.type"
    SOURCE_GIT_COMMIT = "mlflow.source.git.commit"
    DATA_CONTEXT = "mlflow.data.context"  # on a dataset input: train, validation or test


# An experiment's kind: without it a new browser opens MLflow 3's UI on its GenAI pages.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
# The UI opens an experiment on its runs table (the model-training view) with this query.
TRAINING_VIEW_QUERY = "?workflowType=machine_learning"


def runs_url(ui_address: str, experiment_id: str) -> str:
    """The link that opens an experiment's runs in the MLflow UI at `ui_address`."""
    return f"{ui_address.rstrip('/')}/#/experiments/{experiment_id}{TRAINING_VIEW_QUERY}"


class Kind:
    """Values of Tag.KIND."""

    CELL = "cell"
    GRID = "grid"
    COMPARISON = "comparison"


class Artifact:
    """Artifact paths of a run."""

    CONFIG = "config.json"
    GRID = "grid.csv"
    HISTORY = "history.csv"
    NAN_EVENTS = "nan_events.csv"
    TEST_PREDICTIONS = "test_predictions.csv"
    PR_CURVE = "pr_curve.csv"
    RELIABILITY = "reliability.csv"
    PR_FIGURE = "pr_curve.png"
    RELIABILITY_FIGURE = "reliability.png"
    MODEL = "model.keras"
    TRACEBACK = "traceback.txt"


# nan_events.csv: one row per non-finite batch
NAN_EVENT_COLUMNS = ["epoch", "batch", "global_step", "nonfinite", "loss", "grad_norm"]


class Metric:
    """Run-level metric keys (per-epoch metrics are Keras' logs plus EpochRecorder's)."""

    INITIAL_LOSS = "initial_loss"
    LN_NUM_CLASSES = "ln_num_classes"
    NAN_EVENT_COUNT = "nan_event_count"
    FIRST_NAN_STEP = "first_nan_step"
    SKIPPED_STEPS_TOTAL = "skipped_steps_total"
    EPOCHS_COMPLETED = "epochs_completed"
    TRAIN_SECONDS = "train_seconds"
    # the largest per-epoch values: whether a run ever reached a claim's regime
    PEAK_CLIP_SATURATION = "peak_clip_saturation_rate"
    PEAK_ABS_LOGIT = "peak_abs_logit"
    TEST_PREFIX = "test_"
    # kerasce.MlflowLogger: the end-of-training evaluation on the user's validation data (Keras'
    # own per-epoch validation metrics keep their `val_` prefix)
    VALIDATION_PREFIX = "validation_"


@dataclass
class InputSplit:
    """One split a run trained or was evaluated on, logged as an MLflow dataset input."""

    name: str  # e.g. "digits-train"
    digest: str  # the dataset's fingerprint
    context: str  # train | validation | test
    source: str  # where the data came from
    features: object  # the split's arrays (their schema and shape are logged, not their values)
    targets: object


@dataclass
class RunStart:
    """What a run holds from its first moment: name, params, tags, inputs, its parent if nested."""

    name: str
    params: dict
    tags: dict
    parent_id: str | None = None
    inputs: list = field(default_factory=list)  # InputSplit


@dataclass
class RunRecord:
    """What a run holds once its work is done, as plain values, written in one go."""

    metrics: dict = field(default_factory=dict)  # finite values only, logged at step 0
    tags: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)  # artifact path -> text (CSV, JSON, tracebacks)
    images: dict = field(default_factory=dict)  # artifact path -> PNG bytes
    files: dict = field(default_factory=dict)  # artifact path -> bytes (a saved model)
    status: str = "FINISHED"  # FINISHED | FAILED | KILLED
