"""A trained run as plain values (a TrainingResult as train_run hands it over), for the record
and evaluation tests."""

import math

import numpy as np

from kerasce.config import expand_grid, parse_config
from kerasce.datasets import load_dataset
from kerasce.training.result import TrainingResult


def spec_and_dataset(**train):
    config, grid = parse_config(
        {"name": "rec", "data": {"dataset": "breast_cancer"}, "formulation": "logit_bce", "train": train}
    )
    spec = expand_grid(config, grid)[0]
    return spec, load_dataset(spec.config["data"], spec.config["seed"])


def result_for(dataset, probabilities, events=()):
    """A training result as plain values, as train_run hands it over."""
    logits = np.log(probabilities[:, 1:] / probabilities[:, :1])
    return TrainingResult(
        loss_path="fused_logits",
        initial_loss=0.69,
        history=[
            {"epoch": 0, "loss": 0.5, "val_loss": 0.4, "clip_saturation_rate": 0.25, "max_abs_logit": 3.0},
            {
                "epoch": 1,
                "loss": 0.3,
                "val_loss": 0.35,
                "clip_saturation_rate": 0.1,
                "max_abs_logit": math.inf,
            },
        ],
        events=list(events),
        event_count=len(events),
        skipped_steps=3,
        nan_status="none" if not events else "continued",
        test_loss=0.3,
        test_outputs=logits,
        test_probabilities=probabilities,
        test_logits_before=np.zeros_like(logits),
        test_logits=logits,
        train_seconds=1.5,
        steps_per_execution=17,
        deterministic=True,
        weights_hash="abc",
        model=None,
    )


def confident_probabilities(labels, right=0.9):
    positive = np.where(labels == 1, right, 1 - right)
    return np.column_stack([1 - positive, positive])
