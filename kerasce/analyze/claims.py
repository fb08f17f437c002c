"""The seed articles' claims as data: each names the experiment that tests it, how to group and
which metrics to show, the reference each wiring is paired with, the regime its runs must reach
to test it at all, and the verdict function that reads the tables (kerasce/analyze/verdicts.py).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from kerasce.analyze.paired import TWIN
from kerasce.analyze.verdicts import (
    backends_verdict,
    binary_heads_verdict,
    imbalance_verdict,
    mixed_head_verdict,
    naive_overflow_verdict,
    overflow_regime,
    saturation_regime,
)


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    experiment: str  # MLflow experiment name (the config's `name`)
    config: str
    group_by: tuple
    metrics: tuple
    figures: tuple  # which comparison figures to show
    verdict: Callable[[pd.DataFrame, pd.DataFrame], tuple[str, str]]  # (aggregate, paired)
    reference: str = TWIN  # what each wiring is paired with, seed by seed
    # the runs' regime: (per aggregated row, is its setting in the regime; what the regime is)
    regime: Callable[[pd.DataFrame], tuple[pd.Series, str]] | None = None


CLAIMS = (
    Claim(
        "binary_heads",
        "On binary data a single sigmoid unit and two softmax nodes are the same model, and the combined "
        "(from-logits) cross-entropy is the safe way to train either.",
        "binary-heads",
        "experiments/binary_heads.toml",
        ("formulation", "precision", "model.logit_scale"),
        ("test_loss", "test_average_precision", "test_ece"),
        ("loss_curves.png",),
        binary_heads_verdict,
    ),
    Claim(
        "imbalance_pr",
        "Log-softmax with NLL gives better precision-recall than softmax with cross-entropy under class "
        "imbalance, because the probability path loses the rare class in the clipped tail.",
        "imbalance-pr",
        "experiments/imbalance_pr.toml",
        ("formulation", "precision", "model.logit_scale"),
        ("test_average_precision", "test_best_f1", "test_ece", "peak_clip_saturation_rate"),
        ("pr_curves.png",),
        imbalance_verdict,
        reference="log_softmax_nll",
        regime=saturation_regime,
    ),
    Claim(
        "naive_overflow",
        "The textbook softmax exp(z)/sum(exp(z)) with -log(p) overflows to NaN/Inf at large logits or "
        "learning rates; max-subtracted softmax and log-softmax do not.",
        "naive-overflow",
        "experiments/naive_overflow.toml",
        ("formulation", "model.logit_scale", "train.learning_rate"),
        ("test_loss", "nan_event_count", "peak_abs_logit"),
        ("loss_curves.png",),
        naive_overflow_verdict,
        regime=overflow_regime,
    ),
    Claim(
        "mixed_precision_head",
        "Under mixed precision a softmax head silently loses Keras' logit recovery and falls onto clipped "
        "probabilities; keeping the head in float32 restores it.",
        "mixed-precision-head",
        "experiments/mixed_precision_head.toml",
        ("formulation", "precision", "model.float32_head"),
        ("test_loss", "peak_clip_saturation_rate", "test_ece"),
        ("reliability.png",),
        mixed_head_verdict,
    ),
    Claim(
        "backends",
        "The same Keras code takes a different loss path on TensorFlow and on JAX: TensorFlow recovers "
        "the logits of a softmax or sigmoid head in float32, JAX never does.",
        "backends",
        "experiments/backends.toml",
        ("data.dataset", "formulation", "backend", "precision", "model.logit_scale"),
        ("test_loss", "peak_clip_saturation_rate", "test_average_precision", "test_average_precision_macro"),
        ("loss_curves.png",),
        backends_verdict,
    ),
)
