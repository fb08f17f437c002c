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
    STEPS_PER_EXECUTION = "kerasce.steps_per_execution"
    REUSED_MODEL = "kerasce.reused_model"
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


# What each stored name means, written once: docs/records.md renders its tables from these
# (kerasce/tracking/schema_doc.py), and its test fails when a name above has no meaning here.
TAG_MEANINGS = {
    Tag.LOSS_PATH: "the path the compiled loss really took, measured by the probe",
    Tag.NAN_STATUS: "what the run did about non-finite batches (per `train.on_nan`)",
    Tag.CELL_HASH: "hash of the cell's resolved config and dataset fingerprint: the cell's identity",
    Tag.DATASET_FINGERPRINT: "hash of the split arrays and class names",
    Tag.DATASET: "the dataset's name, for filtering in the UI",
    Tag.FORMULATION: "the head and loss wiring, for filtering in the UI",
    Tag.PRECISION: "the dtype policy, for filtering in the UI",
    Tag.KERAS_BACKEND: "the Keras backend the run trained on",
    Tag.HEAD: "a user's head and loss as the audit reads them (kerasce.MlflowLogger)",
    Tag.VERSION: "the version of each package the run used (python, tensorflow, keras, mlflow, numpy, "
    "scikit-learn, pandas, kerasce)",
    Tag.ONEDNN: "TensorFlow's oneDNN setting (it changes float summation order)",
    Tag.DETERMINISTIC: "whether the run was seeded and TensorFlow op determinism was on",
    Tag.STEPS_PER_EXECUTION: "batches per compiled call of fit: an epoch's (the runner's fused loop, "
    "the same steps as one call per batch to the bit) or 1",
    Tag.REUSED_MODEL: "whether the run trained a model its process compiled for an earlier run of the "
    "same architecture, restarted from the state a new model of the run's seed starts in (the same bits)",
    Tag.WEIGHTS_HASH: "hash of the final weights: the same config twice gives the same hash",
    Tag.GIT_COMMIT: "the code's commit, when run inside a git checkout",
    Tag.GIT_DIRTY: "whether that checkout had uncommitted changes",
    Tag.HOST: "the machine that made the run",
    Tag.PID: "the process that made the run",
    Tag.PID_START: "that process's start time: with the host and pid, tells a live run from a dead one",
    Tag.HEARTBEAT: "time of the last finished epoch; a run on another host without one for 15 minutes "
    "counts as dead",
    Tag.UNDEFINED_METRICS: "metrics left out and why (a class absent from the test split, non-finite "
    "predictions), or `none`",
    Tag.KIND: "what the run is",
    Tag.CELLS: "on a grid run: how many cells the grid has",
    Tag.SKIPPED_CELLS: "on a grid run: cells skipped because a FINISHED run of them existed",
    Tag.FAILED_CELLS: "on a grid run: cells whose run failed",
    Tag.PARENT_RUN: "a cell run's grid run (MLflow nests the cells under it)",
    Tag.RUN_NAME: "`dataset / formulation / precision / other grid keys / seed N`, or `grid: NAME (N runs)`",
    Tag.NOTE: "the run's Description in the UI: what was trained, the loss path and what it means, the "
    "NaN/Inf events and the headline test metrics",
    Tag.SOURCE_NAME: "the UI's Source: the command that made the run",
    Tag.SOURCE_TYPE: "`LOCAL`",
    Tag.SOURCE_GIT_COMMIT: "the code's commit, as the UI shows it",
    Tag.DATA_CONTEXT: "on a dataset input: `train`, `validation` or `test`",
}
KIND_MEANINGS = {
    Kind.CELL: "one grid cell: one model trained and evaluated",
    Kind.GRID: "one invocation of a grid, parent of its cell runs",
    Kind.COMPARISON: "a comparison of runs (python -m kerasce.compare), beside the runs it compares",
}
# Per-epoch metrics (step = epoch), beside Keras' own logs (`loss`, `accuracy`, `val_loss`, ...).
EPOCH_METRIC_MEANINGS = {
    "val_average_precision": "validation AP: positive class for two classes, macro otherwise",
    "clip_saturation_rate": "share of the epoch's training samples whose true-class probability, as the "
    "head gave it, was below 1e-7 (the clipped dead zone)",
    "max_abs_logit": "the largest |logit| on the validation split",
    "grad_norm": "mean global gradient norm over the epoch's finite steps, unscaled",
    "nonfinite_batches": "batches whose loss or gradient norm was not finite",
    "skipped_steps": "steps dynamic loss scaling skipped under mixed_float16",
}
METRIC_MEANINGS = {
    Metric.INITIAL_LOSS: "the validation loss before training",
    Metric.LN_NUM_CLASSES: "ln C, what the initial loss of an untrained head should be near",
    Metric.NAN_EVENT_COUNT: "non-finite batches (each a row of nan_events.csv)",
    Metric.FIRST_NAN_STEP: "global step of the first one (only when there was one)",
    Metric.SKIPPED_STEPS_TOTAL: "steps loss scaling skipped: counted, not events",
    Metric.EPOCHS_COMPLETED: "epochs trained",
    Metric.TRAIN_SECONDS: "wall time of the fit",
    Metric.PEAK_CLIP_SATURATION: "the largest per-epoch clip_saturation_rate: whether a run reached the "
    "dead zone",
    Metric.PEAK_ABS_LOGIT: "the largest per-epoch max_abs_logit",
}
# Metrics on the test split (Metric.TEST_PREFIX); kerasce.MlflowLogger logs the same on the user's
# validation data with Metric.VALIDATION_PREFIX instead.
TEST_METRIC_MEANINGS = {
    "test_loss": "the compiled loss",
    "test_accuracy": "a sample with non-finite predictions counts as wrong",
    "test_ece": "expected calibration error, 15 equal-width bins, top label",
    "test_brier": "Brier score",
    "test_nll": "negative log-likelihood of the probabilities",
    "test_nonfinite_prediction_rate": "share of samples whose predictions are not finite; every other "
    "metric is computed on the finite rows",
    "test_average_precision.<class>": "multi-class: AP per class",
    "test_average_precision_macro": "multi-class: mean AP over classes",
    "test_average_precision_micro": "multi-class: AP of all classes pooled",
    "test_roc_auc": "ROC AUC (one-vs-rest for more than two classes)",
    "test_average_precision": "two classes: AP of the positive class",
    "test_precision_at_0.5": "two classes: precision at threshold 0.5",
    "test_recall_at_0.5": "two classes: recall at threshold 0.5",
    "test_f1_at_0.5": "two classes: F1 at threshold 0.5",
    "test_best_f1": "two classes: the best F1 over thresholds",
    "test_best_f1_threshold": "two classes: its threshold",
    "test_precision_at_recall_0.9": "two classes: precision at recall 0.9",
}
ARTIFACT_MEANINGS = {
    Artifact.CONFIG: "the resolved cell config (on a grid run: the grid's config)",
    Artifact.GRID: "on a grid run: one row per cell",
    Artifact.HISTORY: "the per-epoch metrics",
    Artifact.NAN_EVENTS: "one row per non-finite batch: " + ", ".join(NAN_EVENT_COLUMNS),
    Artifact.TEST_PREDICTIONS: "`label` and one `p_<class>` column per class, so any metric can be "
    "recomputed",
    Artifact.PR_CURVE: "`class, threshold, precision, recall`",
    Artifact.RELIABILITY: "`bin, lower, upper, count, mean_confidence, accuracy`",
    Artifact.PR_FIGURE: "the precision-recall curves (left out with `train.figures = false`)",
    Artifact.RELIABILITY_FIGURE: "the reliability diagram (likewise)",
    Artifact.MODEL: "the trained model, with `train.save_model = true`",
    Artifact.TRACEBACK: "the error of a run that FAILED",
}


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
