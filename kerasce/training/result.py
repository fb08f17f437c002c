"""What one training produced, as plain values: what the record is built from. No Keras import,
so processes that only build records (the grid's parent) never load TensorFlow."""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TrainingResult:
    """What one run produced, as plain values (the model aside)."""

    loss_path: str
    initial_loss: float
    history: list[dict]  # one row per epoch: epoch and its metrics
    events: list[dict]  # one row per non-finite batch, columns NAN_EVENT_COLUMNS
    event_count: int  # events counted, itemised or not
    skipped_steps: int
    nan_status: str  # none | stopped | continued
    test_loss: float
    test_outputs: np.ndarray  # the head's raw outputs on the test split
    test_probabilities: np.ndarray  # (n, C) float64
    test_logits_before: np.ndarray  # the head's logits on the test split before training
    test_logits: np.ndarray  # ... and after
    train_seconds: float
    deterministic: bool
    steps_per_execution: int  # batches per compiled call of fit: an epoch's, or 1
    weights_hash: str  # of the final weights: the same config on the same machine gives the same hash
    model: object = field(repr=False)  # the trained keras.Model
    reused_model: bool = False  # trained a model compiled for an earlier run (training/compiled_models.py)
