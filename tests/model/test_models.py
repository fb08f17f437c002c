import math

import keras
import numpy as np
import pytest

from kerasce.config.formulations import get_formulation
from kerasce.errors import ConfigError
from kerasce.model.models import build_model, compile_model

STABLE = ["softmax_ce", "logits_ce", "log_softmax_nll", "sigmoid_bce", "logit_bce"]


def tiny_problem(name, n_samples=16, n_features=8, seed=0):
    formulation = get_formulation(name)
    n_classes = 2 if formulation.task == "binary" else 3
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_samples, n_features)).astype("float32")
    y = rng.permutation(np.arange(n_samples) % n_classes)
    return formulation, n_classes, x, y


def test_mixed_policy_stays_on_its_model():
    formulation = get_formulation("softmax_ce")
    model = build_model(formulation, 4, 3, precision="mixed_float16")
    assert keras.config.dtype_policy().name == "float32"
    assert model.get_layer("hidden_0").dtype_policy.name == "mixed_float16"
    assert build_model(formulation, 4, 3).get_layer("hidden_0").dtype_policy.name == "float32"


def test_float32_head_keeps_hidden_layers_mixed():
    model = build_model(get_formulation("softmax_ce"), 4, 3, precision="mixed_float16", float32_head=True)
    assert model.get_layer("head").dtype_policy.name == "float32"
    assert model.get_layer("hidden_0").compute_dtype == "float16"


def test_mixed_float16_gets_dynamic_loss_scaling_and_others_do_not():
    formulation = get_formulation("logits_ce")
    scaled = compile_model(
        build_model(formulation, 4, 3, precision="mixed_float16"), formulation, "mixed_float16"
    )
    plain = compile_model(build_model(formulation, 4, 3), formulation, "float32")
    assert isinstance(scaled.optimizer, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(plain.optimizer, keras.optimizers.LossScaleOptimizer)


def test_same_seed_same_weights_different_seed_different_weights():
    formulation = get_formulation("logits_ce")
    first, again, other = (build_model(formulation, 6, 3, (16, 8), seed=s) for s in (1, 1, 2))
    for a, b in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


def test_logit_scale_multiplies_the_pre_activation_logits():
    formulation = get_formulation("logits_ce")
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    plain = build_model(formulation, 6, 3, seed=3)
    scaled = build_model(formulation, 6, 3, seed=3, logit_scale=40.0)
    np.testing.assert_allclose(scaled.predict_on_batch(x), 40.0 * plain.predict_on_batch(x), rtol=1e-5)


def test_bad_precision_and_optimizer_name_the_choices():
    formulation = get_formulation("logits_ce")
    with pytest.raises(ConfigError, match="precision.*mixed_float16"):
        build_model(formulation, 4, 3, precision="float16")
    with pytest.raises(ConfigError, match="optimizer.*adam"):
        compile_model(build_model(formulation, 4, 3), formulation, optimizer="adagrad")


STEPS = 150


@pytest.mark.slow
@pytest.mark.parametrize("name", STABLE)
def test_stable_formulation_overfits_a_tiny_batch(name):
    formulation, n_classes, x, y = tiny_problem(name)
    model = compile_model(
        build_model(formulation, 8, n_classes, (32,), seed=0),
        formulation,
        learning_rate=0.02,
        steps_per_execution=STEPS,
    )
    untrained_loss = model.evaluate(x, y, verbose=0)[0]
    # the batch STEPS times in one epoch and one compiled call: an epoch of its own per step
    # would add Keras' per-epoch work to every step
    model.fit(np.tile(x, (STEPS, 1)), np.tile(y, STEPS), batch_size=len(x), shuffle=False, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy == 1.0 and loss < 0.05 < untrained_loss


@pytest.mark.slow
@pytest.mark.parametrize("name", STABLE)
def test_untrained_stable_heads_start_near_ln_c_and_a_saturated_head_does_not(name):
    formulation, n_classes, x, y = tiny_problem(name, n_samples=300, n_features=64)
    near = [
        compile_model(build_model(formulation, 64, n_classes, (64,), seed=s), formulation).evaluate(
            x, y, verbose=0
        )[0]
        for s in range(3)
    ]
    assert abs(np.mean(near) - math.log(n_classes)) < 0.5 * math.log(n_classes), near
    saturated = build_model(formulation, 64, n_classes, (64,), seed=0, logit_scale=100.0)
    far = compile_model(saturated, formulation).evaluate(x, y, verbose=0)[0]
    assert far > 5 * math.log(n_classes)
