"""A run spec is canonical hashable data; its resolved config is typed and shared by everyone."""

import pickle

from kerasce.config import RunConfig, expand_grid, parse_config


def specs(**grid):
    config, tables = parse_config({"name": "s", "model": {"hidden_units": [8, 4]}, "grid": grid})
    return expand_grid(config, tables)


def test_resolved_config_is_typed_with_the_formulation_looked_up_once():
    spec = specs(precision=["mixed_float16"])[0]
    run = spec.resolved
    assert isinstance(run, RunConfig) and run is spec.resolved
    assert run.formulation.name == "logits_ce" and run.formulation.from_logits
    assert run.model.hidden_units == (8, 4) and run.train.epochs == 20 and run.loss_scaling
    assert not specs(precision=["mixed_bfloat16"])[0].resolved.loss_scaling


def test_identity_depends_on_config_and_data_and_specs_pickle():
    first, second = specs(seed=[0, 1])
    assert first.identity("data") != second.identity("data") != second.identity("other data")
    assert first.identity("data") == specs(seed=[0, 1])[0].identity("data")
    assert pickle.loads(pickle.dumps(first)) == first
    assert first.dataset_key != second.dataset_key  # the seed draws the split


def test_run_names_show_the_grid_choices():
    spec = specs(**{"model.logit_scale": [30.0], "seed": [2]})[0]
    assert spec.run_name == "digits / logits_ce / float32 / model.logit_scale=30.0 / seed 2"
