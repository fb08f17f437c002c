"""The shared counting, called directly (eagerly) on the test process's backend: the same code
runs inside the compiled train step of TensorFlow and JAX."""

import math

import keras
import numpy as np
import pytest

from kerasce.config.formulations import get_formulation
from kerasce.model.models import build_model, compile_model
from kerasce.training.instrumented_model import InstrumentedModel
from kerasce.training.instruments import COUNTERS, MAX_EVENTS_PER_EPOCH, InstabilityMonitor

pytestmark = pytest.mark.backend

GRADIENTS = [np.array([[3.0, 0.0]], "float32"), np.array([4.0], "float32")]  # joint norm 5
LABELS = np.array([0, 1])
UNIFORM = np.full((2, 3), 1 / 3, "float32")


def monitor(name="softmax_ce", loss_scaling=False):
    return InstabilityMonitor(get_formulation(name).output, loss_scaling)


def record(m, loss=1.0, gradients=GRADIENTS, loss_scale=1.0, y=LABELS, y_pred=UNIFORM):
    m.record(np.float32(loss), gradients, np.float32(loss_scale), y, y_pred)
    return m.read()


def test_a_finite_step_adds_its_unscaled_gradient_norm_and_no_event():
    counts, rows = record(monitor(), loss_scale=4.0, gradients=[4 * g for g in GRADIENTS])
    assert counts["grad_norm_sum"] == pytest.approx(5.0) and counts["finite_steps"] == 1
    assert counts["events"] == counts["nonfinite_batches"] == counts["skipped_steps"] == 0
    assert counts["seen_samples"] == 2 and len(rows) == 0


def test_a_nonfinite_loss_is_an_event_itemised_with_its_step():
    m = monitor()
    record(m)
    counts, rows = record(m, loss=math.nan)
    assert counts["events"] == counts["nonfinite_batches"] == 1
    assert rows[0][0] == 1 and math.isnan(rows[0][1]) and rows[0][2] == pytest.approx(5.0)
    assert int(keras.ops.convert_to_numpy(m.global_step)) == 2


@pytest.mark.parametrize("loss_scaling, skipped, events", [(True, 1, 0), (False, 0, 1)])
def test_an_overflowing_gradient_is_a_skip_only_under_loss_scaling(loss_scaling, skipped, events):
    overflowed = [np.array([[np.inf, 0.0]], "float32"), GRADIENTS[1]]
    counts, rows = record(monitor(loss_scaling=loss_scaling), gradients=overflowed)
    assert (counts["skipped_steps"], counts["events"], len(rows)) == (skipped, events, events)
    assert counts["finite_steps"] == 0 and counts["grad_norm_sum"] == 0


def test_events_past_the_itemised_maximum_are_counted_not_written():
    m = monitor()
    m.epoch_counts.assign(np.where(np.array(COUNTERS) == "events", MAX_EVENTS_PER_EPOCH - 1.0, 0.0))
    record(m, loss=math.inf)
    counts, rows = record(m, loss=math.nan)
    assert counts["events"] == MAX_EVENTS_PER_EPOCH + 1 and len(rows) == MAX_EVENTS_PER_EPOCH
    assert rows[-1][0] == 0 and rows[-1][1] == math.inf  # the first of the two, at step 0


def test_reset_clears_the_epoch_counts_but_not_the_step():
    m = monitor()
    record(m, loss=math.nan)
    m.reset()
    counts, rows = m.read()
    assert all(value == 0 for value in counts.values()) and len(rows) == 0
    assert int(keras.ops.convert_to_numpy(m.global_step)) == 1


@pytest.mark.parametrize(
    "name, y_pred",
    [
        ("softmax_ce", [[1 - 1e-8, 1e-8, 0.0], [0.2, 0.5, 0.3]]),  # probabilities
        ("logits_ce", [[0.0, -20.0, 0.0], [0.0, 1.0, 0.0]]),  # logits: p[1] = e^-20 / (2 + e^-20)
        ("log_softmax_nll", [[-1e-7, -17.0, -30.0], [-1.5, -0.5, -1.5]]),  # log-probabilities
        ("sigmoid_bce", [[1 - 1e-8], [0.9]]),  # label 0 at p = 1 - 1e-8
        ("logit_bce", [[20.0], [3.0]]),  # label 0 behind logit 20: P(0) = e^-20
    ],
)
def test_the_dead_zone_is_read_off_each_kind_of_head_output(name, y_pred):
    labels = np.array([0, 1]) if "bce" in name else np.array([1, 1])
    counts, _ = record(monitor(name), y=labels, y_pred=np.array(y_pred, "float32"))
    assert (counts["dead_samples"], counts["seen_samples"]) == (1, 2)


@pytest.mark.parametrize(
    "label_format, y, y_pred, dead, seen",
    [
        # one-hot rows: the heaviest class is the label (here class 1 of the first sample, at 1e-8)
        ("one_hot", [[0.0, 1.0, 0.0], [0.1, 0.1, 0.8]], [[1 - 1e-8, 1e-8, 0.0], [0.2, 0.3, 0.5]], 1, 2),
        # multi-hot: one entry per sample and unit; a 1 at p = 1e-8 and a 0 at p = 1 - 1e-8 are dead
        ("multi_hot", [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], [[1e-8, 1 - 1e-8, 0.6], [0.1, 0.2, 0.9]], 2, 6),
        # (n, 1) binary labels with one sigmoid unit
        ("binary", [[1.0], [0.0]], [[1e-8], [0.4]], 1, 2),
    ],
)
def test_the_dead_zone_counts_each_label_format(label_format, y, y_pred, dead, seen):
    m = InstabilityMonitor("probabilities", False, label_format)
    counts, _ = record(m, y=np.array(y, "float32"), y_pred=np.array(y_pred, "float32"))
    assert (counts["dead_samples"], counts["seen_samples"]) == (dead, seen)


def test_the_counters_are_model_state_not_weights():
    formulation = get_formulation("logits_ce")
    built = build_model(formulation, 4, 3, hidden_units=(8,))
    model = InstrumentedModel(built.input, built.output)
    model.monitor = InstabilityMonitor(formulation.output, loss_scaling=False)
    compile_model(model, formulation)
    counters = {id(v) for v in model.monitor.variables}
    assert counters <= {id(v) for v in model.non_trainable_variables}
    assert not counters & {id(v) for v in model.weights}
    assert len(model.get_weights()) == len(built.get_weights())
