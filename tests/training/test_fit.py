"""Instability measured inside the compiled train step, read once per epoch, on the test
process's Keras backend (run this file with KERAS_BACKEND=tensorflow, jax and torch)."""

import math
import os
import random
import subprocess
import sys

import keras
import numpy as np
import pytest

from kerasce.config import RunConfig, parse_config
from kerasce.datasets import load_dataset
from kerasce.tracking.schema import NAN_EVENT_COLUMNS
from kerasce.training.batches import lean_pipeline
from kerasce.training.fit import set_random_seed, train_run

pytestmark = [pytest.mark.slow, pytest.mark.backend]  # every test here trains a model

SMALL_DIGITS = {"dataset": "digits", "max_samples": 400}


def run(
    formulation="logits_ce",
    precision="float32",
    logit_scale=1.0,
    epochs=2,
    on_nan="stop",
    seed=0,
    fused=True,
    **train,
):
    config, _ = parse_config(
        {
            "formulation": formulation,
            "precision": precision,
            "seed": seed,
            "data": SMALL_DIGITS if "bce" not in formulation else {"dataset": "breast_cancer"},
            "model": {"hidden_units": [16], "logit_scale": logit_scale},
            "train": {"epochs": epochs, "on_nan": on_nan, **train},
        }
    )
    return train_run(RunConfig.from_dict(config), load_dataset(config["data"], seed), fused=fused)


@pytest.mark.parametrize(
    "formulation, precision, optimizer",
    [
        ("softmax_ce", "float32", "adam"),
        ("logits_ce", "mixed_float16", "sgd"),
        ("logit_bce", "float32", "rmsprop"),
    ],
)
def test_the_fused_loop_takes_the_steps_of_one_call_per_batch_to_the_bit(formulation, precision, optimizer):
    """An epoch's batches in one compiled call (the runner's loop): the same weights, losses,
    instruments and events as fit's default of one call per batch."""
    fused = run(formulation, precision, epochs=3, optimizer=optimizer)
    per_batch = run(formulation, precision, epochs=3, optimizer=optimizer, fused=False)
    assert fused.steps_per_execution > 1 and per_batch.steps_per_execution == 1
    assert fused.weights_hash == per_batch.weights_hash
    assert fused.history == per_batch.history and fused.events == per_batch.events
    assert fused.skipped_steps == per_batch.skipped_steps


def test_a_stable_run_records_every_epoch_and_no_events():
    result = run(epochs=3)
    assert [row["epoch"] for row in result.history] == [0, 1, 2]
    for row in result.history:
        assert {
            "loss",
            "accuracy",
            "val_loss",
            "val_accuracy",
            "val_average_precision",
            "clip_saturation_rate",
            "max_abs_logit",
            "grad_norm",
            "nonfinite_batches",
            "skipped_steps",
        } <= set(row)
        assert row["nonfinite_batches"] == 0 and row["grad_norm"] > 0
    assert result.events == [] and result.nan_status == "none" and result.loss_path == "fused_logits"
    assert abs(result.initial_loss - math.log(10)) < 1.5
    assert result.test_probabilities.shape == (80, 10)
    np.testing.assert_allclose(result.test_probabilities.sum(axis=1), 1.0)


def test_textbook_softmax_at_large_logit_scale_records_events_and_stops():
    result = run("naive_softmax_ce", logit_scale=100.0, epochs=4, on_nan="stop")
    assert result.loss_path == "naive" and result.nan_status == "stopped"
    assert len(result.history) == 1  # stopped at the end of the first epoch with an event
    assert result.event_count == len(result.events) == result.history[0]["nonfinite_batches"] > 0
    first = result.events[0]
    assert set(first) == set(NAN_EVENT_COLUMNS) and first["global_step"] == 0 and first["nonfinite"] == "loss"
    steps = [e["global_step"] for e in result.events]
    assert steps == sorted(steps) and all(e["batch"] == e["global_step"] for e in result.events)


def test_continue_keeps_training_through_events():
    result = run("naive_softmax_ce", logit_scale=100.0, epochs=3, on_nan="continue")
    assert result.nan_status == "continued" and len(result.history) == 3
    assert {e["epoch"] for e in result.events} == {0, 1, 2}
    # every batch blows up: the step counter runs on across epochs, the batch index restarts
    assert [e["global_step"] for e in result.events] == list(range(result.event_count))
    steps_per_epoch = result.event_count // 3
    assert [e["batch"] for e in result.events] == list(range(steps_per_epoch)) * 3


def test_stable_wiring_survives_the_same_logit_scale():
    result = run("logits_ce", logit_scale=100.0, epochs=2)
    assert result.event_count == 0 and result.nan_status == "none"
    assert result.history[0]["clip_saturation_rate"] > 0  # many samples sit where clipping would kill them


def test_clipped_path_has_a_dead_zone_at_large_logit_scale():
    result = run("clipped_softmax_ce", logit_scale=100.0, epochs=2)
    assert result.loss_path == "clipped_probabilities"
    assert result.history[0]["clip_saturation_rate"] > 0.2


def test_loss_scaling_skips_are_counted_apart_from_events():
    # Larger logits mean larger gradients: times the initial loss scale 2**15 they overflow float16.
    result = run("logits_ce", precision="mixed_float16", logit_scale=30.0, epochs=2)
    assert result.skipped_steps > 0
    assert result.event_count == 0 and result.nan_status == "none"
    assert result.skipped_steps == sum(row["skipped_steps"] for row in result.history)
    # each skipped step halved the loss scale (it grows only after 2000 clean steps)
    scale = float(keras.ops.convert_to_numpy(result.model.optimizer.dynamic_scale))
    assert scale == 2.0**15 / 2.0**result.skipped_steps


def test_bfloat16_has_no_loss_scaling_and_no_skips():
    result = run("logits_ce", precision="mixed_bfloat16", logit_scale=30.0, epochs=2)
    assert result.skipped_steps == 0 and result.event_count == 0
    assert not isinstance(result.model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_the_same_config_twice_gives_the_same_losses_and_weights():
    first, again = run("softmax_ce", epochs=2, seed=4), run("softmax_ce", epochs=2, seed=4)
    assert first.deterministic and first.weights_hash == again.weights_hash
    assert [row["loss"] for row in first.history] == [row["loss"] for row in again.history]


@pytest.mark.parametrize("formulation", ["sigmoid_bce", "logit_bce"])
def test_binary_heads_train(formulation):
    # 5 epochs: JAX's initial weights (same seed, another generator) start further from a fit
    result = run(formulation, epochs=5)
    losses = [row["loss"] for row in result.history]
    assert losses == sorted(losses, reverse=True) and result.history[-1]["val_accuracy"] > 0.75
    assert result.test_probabilities.shape[1] == 2


def seeded_draws() -> list:
    """What the next random draws of Python, NumPy, Keras' global generator and a new Dense layer
    are, and on TensorFlow the order of a seeded tf.data shuffle (the runs' batches)."""
    from keras.src.utils.rng_utils import get_random_seed  # what Keras' JAX distribution reads

    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    draws = [random.random(), np.random.random(), get_random_seed()]
    draws += [
        keras.ops.convert_to_numpy(keras.random.uniform((3,))).tolist(),
        layer.get_weights()[0].tolist(),
    ]
    if keras.backend.backend() == "tensorflow":
        batches = lean_pipeline(np.arange(40), np.arange(40), 8, shuffle_seed=5)
        draws.append([batch[0].numpy().tolist() for _ in range(2) for batch in batches])
    return draws


def test_a_run_is_seeded_as_keras_utils_set_random_seed_seeds():
    for seed in (3, 11):
        keras.utils.set_random_seed(seed)
        by_keras = seeded_draws()
        keras.utils.set_random_seed(seed + 1)  # every generator somewhere else
        seeded_draws()
        set_random_seed(seed)
        assert seeded_draws() == by_keras


def test_seeding_a_run_on_jax_leaves_tensorflow_unimported():
    code = (
        "import sys; from kerasce.training.fit import set_random_seed; set_random_seed(0); "
        "print('tensorflow' in sys.modules)"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stdout + done.stderr[-2000:]
