"""What a run's fit and evaluations are fed: a lean tf.data pipeline on TensorFlow, arrays elsewhere."""

import keras
import numpy as np
import pytest

from kerasce.config import RunConfig, parse_config
from kerasce.datasets import load_dataset
from kerasce.training.batches import feed, lean_pipeline, on_tensorflow, validation
from kerasce.training.fit import build_instrumented_model, seed_everything, train_run, weights_hash

pytestmark = pytest.mark.backend

X = np.arange(10, dtype="float32").reshape(10, 1)
Y = np.arange(10)

tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a TensorFlow pipeline")


def epoch(pipeline) -> list[list[int]]:
    return [batch_y.tolist() for _, batch_y in pipeline.as_numpy_iterator()]


@tensorflow_only
def test_a_pipeline_gives_every_sample_once_an_epoch_in_batches():
    batches = epoch(lean_pipeline(X, Y, 4, shuffle_seed=0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(sum(batches, [])) == list(range(10))
    assert epoch(lean_pipeline(X, Y, 4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]  # no seed: in order


@tensorflow_only
def test_the_same_seed_shuffles_the_same_way_and_each_epoch_anew():
    first, second = lean_pipeline(X, Y, 10, shuffle_seed=3), lean_pipeline(X, Y, 10, shuffle_seed=3)
    epochs = [epoch(first) for _ in range(3)]
    assert epochs == [epoch(second) for _ in range(3)]
    assert len({str(e) for e in epochs}) == 3
    assert epoch(lean_pipeline(X, Y, 10, shuffle_seed=4)) != epochs[0]


@tensorflow_only
def test_the_pipeline_runs_on_one_thread_without_autotuning():
    options = lean_pipeline(X, Y, 4).options()
    assert options.autotune.enabled is False
    assert options.threading.private_threadpool_size == 1
    assert options.threading.max_intra_op_parallelism == 1


def test_fit_gets_a_shuffled_feed_and_evaluate_an_ordered_one():
    for_fit, for_evaluate = feed(X, Y, 4, shuffle_seed=0), feed(X, Y, 4)
    assert "shuffle" not in for_evaluate  # evaluate has no such argument
    if on_tensorflow():
        assert set(for_fit) == {"x", "shuffle"} and for_fit["shuffle"] is False
        assert epoch(for_evaluate["x"]) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
        assert epoch(validation(X, Y, 4)) == epoch(for_evaluate["x"])
    else:  # Keras batches and shuffles arrays itself on the other backends
        assert for_fit["x"] is X and for_fit["y"] is Y and for_fit["batch_size"] == 4 and for_fit["shuffle"]
        assert validation(X, Y, 4) == (X, Y)


@tensorflow_only
@pytest.mark.slow
def test_a_run_is_trained_on_the_lean_pipeline():
    """The run's weights equal a fit replayed on `feed`'s pipeline, and differ from one on the
    arrays (which Keras shuffles its own way): the runner is fed what this module builds."""
    config, _ = parse_config(
        {
            "data": {"dataset": "digits", "max_samples": 300},
            "model": {"hidden_units": [8]},
            "train": {"epochs": 2},
        }
    )
    run, dataset = RunConfig.from_dict(config), load_dataset(config["data"], config["seed"])
    trained = train_run(run, dataset).weights_hash

    def replay(**inputs) -> str:
        seed_everything(run.seed, run.train.deterministic)
        model = build_instrumented_model(run, dataset)
        validation_data = validation(dataset.x_val, dataset.y_val, run.train.batch_size)
        model.fit(**inputs, epochs=run.train.epochs, validation_data=validation_data, verbose=0)
        return weights_hash(model)

    batch_size = run.train.batch_size
    assert replay(**feed(dataset.x_train, dataset.y_train, batch_size, shuffle_seed=run.seed)) == trained
    assert replay(x=dataset.x_train, y=dataset.y_train, batch_size=batch_size) != trained
