"""A plain user script: `kerasce.instrument` + `kerasce.MlflowLogger` into a temporary real store,
read back through MLflow's public API."""

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest

import kerasce
from kerasce.tracking.schema import NAN_EVENT_COLUMNS, Artifact, Metric, Tag
from kerasce.tracking.store import artifact_root

pytestmark = pytest.mark.backend

RNG = np.random.default_rng(0)
X = RNG.normal(size=(192, 6)).astype("float32")
Y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)  # three classes


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("mine", artifact_location=artifact_root(uri))
    yield mlflow.MlflowClient(uri), experiment
    mlflow.set_tracking_uri(previous)


def users_model(kernel_std=0.05, activation="softmax"):
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    initializer = keras.initializers.RandomNormal(stddev=kernel_std, seed=1)
    outputs = keras.layers.Dense(3, activation=activation, kernel_initializer=initializer)(hidden)
    return keras.Model(inputs, outputs, name="users_model")


def train(store, model, learning_rate, epochs=2, **logger_options):
    from_logits = model.layers[-1].activation.__name__ == "linear"
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=loss)
    instrumented = kerasce.instrument(model)
    logger = kerasce.MlflowLogger(validation_data=(X[:64], Y[:64]), **logger_options)
    with mlflow.start_run(experiment_id=store[1]) as run:
        instrumented.fit(X[64:], Y[64:], batch_size=32, epochs=epochs, verbose=0, callbacks=[logger])
    return store[0].get_run(run.info.run_id)


def artifact_text(client, run, path):
    with open(client.download_artifacts(run.info.run_id, path)) as handle:
        return handle.read()


@pytest.mark.slow
def test_the_callback_logs_what_the_runner_logs(store):
    client = store[0]
    run = train(store, users_model(), learning_rate=0.1)
    expected_path = {"tensorflow": "recovered_logits"}.get(keras.backend.backend(), "clipped_probabilities")
    assert run.data.tags[Tag.LOSS_PATH] == expected_path
    assert run.data.tags[Tag.NAN_STATUS] == "none"
    assert run.data.metrics[Metric.EPOCHS_COMPLETED] == 2 and run.data.metrics[Metric.NAN_EVENT_COUNT] == 0
    assert {"loss", "val_average_precision", "clip_saturation_rate", "grad_norm"} <= set(run.data.metrics)
    assert {"validation_ece", "validation_average_precision_macro"} <= set(run.data.metrics)
    assert len(client.get_metric_history(run.info.run_id, "grad_norm")) == 2
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {Artifact.HISTORY, Artifact.NAN_EVENTS, Artifact.PR_CURVE, Artifact.RELIABILITY} <= logged
    assert {Artifact.PR_FIGURE, Artifact.RELIABILITY_FIGURE} <= logged


@pytest.mark.slow
def test_a_forced_blow_up_is_logged_as_nan_events(store):
    client = store[0]
    # logits (every backend takes the fused path: a softmax head on JAX clips, and clipping
    # cannot overflow) with weights ~1e5 and a step of 1e30: the logits overflow to inf
    model = users_model(kernel_std=1e5, activation=None)
    run = train(store, model, learning_rate=1e30, stop_on_nan=True, figures=False)
    assert run.data.tags[Tag.NAN_STATUS] == "stopped"
    assert run.data.metrics[Metric.NAN_EVENT_COUNT] >= 1 and run.data.metrics[Metric.EPOCHS_COMPLETED] == 1
    events = pd.read_csv(client.download_artifacts(run.info.run_id, Artifact.NAN_EVENTS))
    assert list(events.columns) == NAN_EVENT_COLUMNS and len(events) >= 1
    assert run.data.metrics[Metric.FIRST_NAN_STEP] == events["global_step"].iloc[0]


def test_an_uninstrumented_model_is_refused_with_the_fix():
    model = users_model()
    model.compile(loss="sparse_categorical_crossentropy")
    logger = kerasce.MlflowLogger(validation_data=(X[:8], Y[:8]))
    logger.set_model(model)
    with pytest.raises(kerasce.errors.KerasceError, match="kerasce.instrument"):
        logger.on_train_begin()


def fit_logged(store, model, x, y=None, logger_data=None, **fit_options):
    """`model` compiled, instrumented and fitted under MlflowLogger(logger_data): the run."""
    instrumented = kerasce.instrument(model)
    logger = kerasce.MlflowLogger(validation_data=logger_data, figures=False)
    with mlflow.start_run(experiment_id=store[1]) as run:
        instrumented.fit(x, y, epochs=2, verbose=0, callbacks=[logger], **fit_options)
    return store[0].get_run(run.info.run_id)


def compiled(activation, units, loss, metrics=None):
    model = users_model(activation=activation)
    model = keras.Model(
        model.input, keras.layers.Dense(units, activation=activation)(model.layers[-2].output)
    )
    model.compile(optimizer="adam", loss=loss, metrics=metrics)
    return model


PROBABILITY_PATH = {"tensorflow": "recovered_logits"}.get(keras.backend.backend(), "clipped_probabilities")


@pytest.mark.slow
def test_one_hot_labels_train_and_are_evaluated(store):
    one_hot = keras.utils.to_categorical(Y, 3)
    model = compiled("softmax", 3, "categorical_crossentropy", metrics=["accuracy"])
    run = fit_logged(store, model, X[64:], one_hot[64:], (X[:64], one_hot[:64]), batch_size=32)
    assert run.data.tags[Tag.LOSS_PATH] == PROBABILITY_PATH
    assert "labels one_hot" in run.data.tags[Tag.HEAD]
    assert {"validation_ece", "validation_accuracy", "clip_saturation_rate", "accuracy"} <= set(
        run.data.metrics
    )


@pytest.mark.slow
def test_multi_hot_labels_from_tf_data_datasets(store):
    import tensorflow as tf

    tags = np.stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0.5, X[:, 3] < -0.5], axis=1).astype("float32")
    model = compiled("sigmoid", 4, "binary_crossentropy", metrics=["binary_accuracy"])
    train = tf.data.Dataset.from_tensor_slices((X[64:], tags[64:])).batch(32)
    validation = tf.data.Dataset.from_tensor_slices((X[:64], tags[:64])).batch(16)
    run = fit_logged(store, model, train, logger_data=validation, validation_data=validation)
    assert run.data.tags[Tag.LOSS_PATH] == PROBABILITY_PATH
    assert "labels multi_hot" in run.data.tags[Tag.HEAD]
    assert 0 < run.data.metrics["validation_average_precision_macro"] <= 1
    assert 0 < run.data.metrics["val_average_precision"] <= 1 and "val_loss" in run.data.metrics
    assert "multi-hot" in run.data.tags[Tag.UNDEFINED_METRICS]


@pytest.mark.slow
def test_sample_weights_validation_split_and_a_generator_leave_the_fit_alone(store):
    weights = np.where(Y == 0, 2.0, 1.0).astype("float32")
    model = compiled(None, 3, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    run = fit_logged(store, model, X, Y, sample_weight=weights, validation_split=0.25, batch_size=32)
    assert run.data.tags[Tag.LOSS_PATH] == "fused_logits" and "val_loss" in run.data.metrics
    assert "no validation_data given" in run.data.tags[Tag.UNDEFINED_METRICS]

    def batches():
        for _ in range(2):
            for start in range(0, len(X), 64):
                yield X[start : start + 64], Y[start : start + 64]

    model = compiled(None, 3, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    run = fit_logged(store, model, batches(), logger_data=(X[:32], Y[:32]), steps_per_epoch=3)
    assert run.data.metrics[Metric.EPOCHS_COMPLETED] == 2 and "validation_ece" in run.data.metrics


@pytest.mark.slow
def test_a_head_kerasce_cannot_read_is_logged_unclassified_and_the_fit_goes_on(store):
    inputs = keras.Input((6,))
    scores = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Rescaling(1.0)(scores))  # not a layer the probe reads through
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    run = fit_logged(store, model, X[64:], Y[64:], (X[:64], Y[:64]), batch_size=32)
    assert run.data.tags[Tag.LOSS_PATH].startswith("unclassified (kerasce cannot read the head")
    assert run.data.metrics[Metric.EPOCHS_COMPLETED] == 2 and "loss" in run.data.metrics


def test_a_one_shot_generator_as_validation_data_is_refused_before_fit():
    with pytest.raises(kerasce.errors.KerasceError, match="cannot be read without consuming it"):
        kerasce.MlflowLogger(validation_data=(pair for pair in [(X, Y)]))


@pytest.mark.slow
def test_a_dict_of_inputs_with_integer_ids_trains_and_is_logged(store):
    from real_models import wide_and_deep

    rng = np.random.default_rng(1)
    x = {"numeric": X[:, :4], "category": rng.integers(0, 10, size=(len(X), 1)).astype("int32")}
    y = (X[:, 0] > 0).astype("float32")
    validation = ({name: values[:64] for name, values in x.items()}, y[:64])
    run = fit_logged(store, wide_and_deep(), x, y, validation, batch_size=32)
    assert run.data.tags[Tag.LOSS_PATH] == PROBABILITY_PATH and "labels binary" in run.data.tags[Tag.HEAD]
    assert 0 < run.data.metrics["validation_average_precision"] <= 1
