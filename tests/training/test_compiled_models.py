"""A later seed trains its architecture's kept model, restarted: the bits of a new model."""

import numpy as np
import pytest

from kerasce.config import RunConfig, parse_config
from kerasce.datasets import load_dataset
from kerasce.training.compiled_models import CompiledModels, architecture
from kerasce.training.fit import train_run


def config(formulation="logits_ce", precision="float32", seed=0, logit_scale=1.0, **train):
    raw, _ = parse_config(
        {
            "formulation": formulation,
            "precision": precision,
            "seed": seed,
            "data": {"dataset": "digits", "max_samples": 400},
            "model": {"hidden_units": [16], "logit_scale": logit_scale},
            "train": {"epochs": 2, **train},
        }
    )
    return RunConfig.from_dict(raw), load_dataset(raw["data"], seed)


def train(models=None, **options):
    run, dataset = config(**options)
    return train_run(run, dataset, models=models)


@pytest.mark.slow
@pytest.mark.backend
@pytest.mark.parametrize(
    "options",
    [
        {"formulation": "softmax_ce", "optimizer": "adam"},
        # loss-scaling skips: the loss scale and the skip counts must start over
        {"precision": "mixed_float16", "logit_scale": 30.0, "optimizer": "adam"},
        # an event in every batch: the monitor's counters must start over
        {"formulation": "naive_softmax_ce", "logit_scale": 100.0, "on_nan": "continue", "optimizer": "sgd"},
    ],
    ids=["float32", "mixed_float16-skips", "events"],
)
def test_a_later_seed_on_a_kept_model_trains_to_the_bits_of_a_new_model(options):
    models = CompiledModels()
    first = train(models, seed=0, **options)
    later = train(models, seed=1, **options)
    new = train(seed=1, **options)
    assert (first.reused_model, later.reused_model, new.reused_model) == (False, True, False)
    assert later.weights_hash == new.weights_hash
    np.testing.assert_equal(later.history, new.history)  # NaN equal to NaN
    np.testing.assert_equal(later.events, new.events)
    assert (later.event_count, later.skipped_steps) == (new.event_count, new.skipped_steps)
    np.testing.assert_equal((later.initial_loss, later.test_loss), (new.initial_loss, new.test_loss))
    np.testing.assert_array_equal(later.test_logits_before, new.test_logits_before)
    np.testing.assert_array_equal(later.test_probabilities, new.test_probabilities)


@pytest.mark.slow
def test_a_model_is_kept_per_architecture_and_the_least_recently_used_goes():
    models = CompiledModels(size=1)
    assert not train(models, seed=0).reused_model
    assert not train(models, seed=0, formulation="softmax_ce").reused_model  # another architecture
    assert not train(models, seed=1).reused_model  # its model was dropped to keep one
    assert train(models, seed=2).reused_model


def test_the_architecture_is_the_config_but_its_seed():
    (seed_0, digits_0), (seed_1, digits_1) = config(seed=0), config(seed=1)
    assert architecture(seed_0, digits_0, 5) == architecture(seed_1, digits_1, 5)
    assert architecture(seed_0, digits_0, 5) != architecture(seed_0, digits_0, 1)
    other, _ = config(seed=0, learning_rate=0.01)
    assert architecture(seed_0, digits_0, 5) != architecture(other, digits_0, 5)
