"""The benchmark times exactly the model the runner trains."""

import subprocess
import sys

import keras
import pytest

from kerasce.bench.measure import WORKLOADS, bare_fit, bare_weights_hash
from kerasce.config import expand_grid, parse_config
from kerasce.run.cell import ProcessCache
from kerasce.training.fit import build_compiled_model, build_instrumented_model, train_run


def spec(epochs=1, **model):
    config, tables = parse_config(
        {
            "precision": "mixed_float16",
            "data": {"dataset": "digits", "max_samples": 200},
            "model": {"hidden_units": [8], **model},
            "train": {"epochs": epochs, "batch_size": 16},
        }
    )
    return expand_grid(config, tables)[0]


def layer_configs(model: keras.Model) -> list:
    return [(type(layer).__name__, layer.get_config()) for layer in model.layers[1:]]


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_workloads_are_valid_configs(name):
    assert expand_grid(*parse_config({"name": name, **WORKLOADS[name]}))[0].resolved.train.epochs > 0


def test_the_bare_model_is_the_runners_model_float32_head_and_logit_scale_included():
    cell = spec(float32_head=True, logit_scale=30.0)
    dataset = ProcessCache().dataset_for(cell)
    bare, instrumented = (
        build_compiled_model(cell.resolved, dataset),
        build_instrumented_model(cell.resolved, dataset),
    )
    assert layer_configs(bare) == layer_configs(instrumented)
    head = bare.get_layer("head")
    assert head.logit_scale == 30.0 and head.dtype_policy.name == "float32"
    assert bare.get_layer("hidden_0").dtype_policy.name == "mixed_float16"


@pytest.mark.slow
def test_bare_fit_trains_and_times():
    cell = spec()
    assert bare_fit(cell.resolved, ProcessCache().dataset_for(cell)) > 0


@pytest.mark.slow
@pytest.mark.backend
def test_the_bitwise_reference_is_fed_the_runners_batches():
    cell = spec(epochs=2)
    dataset = ProcessCache().dataset_for(cell)
    assert train_run(cell.resolved, dataset).weights_hash == bare_weights_hash(cell.resolved, dataset)


def test_help_explains_the_command():
    result = subprocess.run([sys.executable, "-m", "kerasce.bench", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--jobs-speedup" in result.stdout and "bare model.fit" in result.stdout


def test_a_workload_line_gives_each_mode_against_the_bare_fit():
    from kerasce.bench.__main__ import workload_line

    medians = {"bare": 2.0, "kerasce": 3.0, "autolog": 8.0, "kerasce-no-figures": 1.0}
    line = workload_line("digits", "jax", medians | {"kerasce-later-seed": 1.5, "callback": 4.0})
    assert line.startswith("digits         [jax] bare fit (a)   2.00s")
    for part in [
        "b/a 1.500",
        "c/a 4.000",
        "without figures: 1.00s, 0.500",
        "later seed: 1.50s, 0.750",
        "d/a 2.000",
    ]:
        assert part in line


@pytest.mark.parametrize(
    "runner, verdict", [({"c0ffee"}, "equal to the bit"), ({"c0ffee", "bad"}, "DIFFERENT")]
)
def test_the_bitwise_line_says_whether_every_runner_cell_equals_the_bare_fit(runner, verdict):
    from kerasce.bench.__main__ import bitwise_line
    from kerasce.bench.measure import Workload

    workload = Workload({}, frozenset(runner), frozenset({17}), "c0ffee")
    line = bitwise_line("digits", workload)
    assert line.endswith(f"against bare fit c0ffee (one call per batch): {verdict}")
    assert "17 batches per compiled call" in line and workload.bitwise_equal == (
        verdict == "equal to the bit"
    )
