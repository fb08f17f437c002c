"""Training one run: seeded, on the run config's model, with the instruments attached."""

import hashlib
import math
import random
import time
from collections.abc import Callable

import keras
import numpy as np

from kerasce.config.spec import RunConfig
from kerasce.datasets import Dataset
from kerasce.model.loss_path import detect_loss_path
from kerasce.model.models import build_model, compile_model
from kerasce.training.batches import feed, validation
from kerasce.training.compiled_models import CompiledModels, KeptModel, restart
from kerasce.training.instrumented_model import InstrumentedModel
from kerasce.training.instruments import EpochRecorder, HeadProbe, InstabilityMonitor
from kerasce.training.result import TrainingResult
from kerasce.vocabulary import nan_status

EVALUATION_BATCH = 1024  # forward-only passes: large batches, same results


def seed_everything(seed: int, deterministic: bool) -> bool:
    """Seed Python, NumPy and Keras (and TensorFlow on its backend); make ops deterministic if asked.
    Returns whether they are. TensorFlow and PyTorch have a switch; JAX's CPU kernels need none,
    and on a GPU its flag must be set before JAX starts, so determinism is claimed on CPU only
    (docs/backends.md)."""
    set_random_seed(seed)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_determinism(deterministic)
    if backend == "jax":
        import jax

        return deterministic and jax.default_backend() == "cpu"
    if backend == "torch":
        return _torch_determinism(deterministic)
    return False  # other backends: no determinism switched on here


def set_random_seed(seed: int) -> None:
    """What `keras.utils.set_random_seed` seeds (Python, NumPy, Keras' global seed and generator,
    TensorFlow's global seed, torch), less two costs it has. It imports TensorFlow on every backend,
    for tf.data shuffles, which runs on JAX never make; and its `tf.random.set_seed` clears
    TensorFlow's kernel caches, so a kept model's compiled functions are instantiated again at its
    next call, each run (the cache is cleared so that stateful random kernels restart; Keras 3 draws
    with stateless ops and seed variables, and a run's shuffle is a new dataset). The same state
    either way (tests/training/test_fit.py)."""
    from keras.src.backend.common import global_state
    from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
    from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED

    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)  # made again from the seed
    random.seed(seed)
    np.random.seed(seed)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.eager import context  # the eager seed, set as tf.random.set_seed sets it

        eager = context.context()
        if hasattr(eager, "_seed") and hasattr(eager, "_rng"):
            eager._seed, eager._rng = seed, random.Random(seed)
        else:  # a TensorFlow that keeps its seed elsewhere: seeded as Keras seeds it, caches cleared
            tf.random.set_seed(seed)
    elif backend == "torch":
        import torch

        torch.manual_seed(seed)


def _tensorflow_determinism(deterministic: bool) -> bool:
    import tensorflow as tf
    from tensorflow.python.framework import config as tensorflow_config  # its only reader of the switch

    if deterministic and not tensorflow_config.is_op_determinism_enabled():
        tf.config.experimental.enable_op_determinism()
    return tensorflow_config.is_op_determinism_enabled()  # once on, it cannot be switched off


def _torch_determinism(deterministic: bool) -> bool:
    import torch

    if keras.ops.zeros(()).device.type != "cpu":  # the device Keras places tensors on
        return False
    torch.use_deterministic_algorithms(deterministic)  # unlike TensorFlow's, it can be switched off
    return deterministic


def epoch_steps(run: RunConfig, dataset: Dataset) -> int:
    """The batches of one training epoch."""
    return math.ceil(len(dataset.x_train) / run.train.batch_size)


def build_compiled_model(
    run: RunConfig, dataset: Dataset, model_class=keras.Model, steps_per_execution: int = 1
) -> keras.Model:
    """The run config's model for this dataset, compiled: what the runner trains and the bench's
    bare fit times (with `model_class` the instrumented subclass, or plain Keras). With
    `steps_per_execution`, each compiled call of fit runs that many batches (the same steps: an
    epoch's batches in one call give weights equal to the bit, tests/training/test_fit.py)."""
    built = build_run_model(run, dataset)
    model = built if model_class is keras.Model else model_class(built.input, built.output, name=built.name)
    compile_model(
        model,
        run.formulation,
        run.precision,
        run.train.optimizer,
        run.train.learning_rate,
        steps_per_execution,
    )
    return model


def build_run_model(run: RunConfig, dataset: Dataset) -> keras.Model:
    """The run config's model for this dataset, built from its seed, not compiled."""
    return build_model(
        run.formulation,
        dataset.input_shape,
        dataset.n_classes,
        run.model.hidden_units,
        run.precision,
        run.model.float32_head,
        run.model.logit_scale,
        run.seed,
        run.model.body,
    )


def build_instrumented_model(run: RunConfig, dataset: Dataset, fused: bool = True) -> InstrumentedModel:
    """The run config's model, compiled, with the instability monitor attached; `fused`: each
    epoch's batches run as one compiled call (Keras' per-batch dispatch, not the arithmetic, is
    most of a small model's fit), else one call per batch as a plain fit."""
    steps = epoch_steps(run, dataset) if fused else 1
    model = build_compiled_model(run, dataset, InstrumentedModel, steps)
    model.monitor = InstabilityMonitor(run.formulation.output, loss_scaling=run.loss_scaling)
    return model


def weights_hash(model: keras.Model) -> str:
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()[:16]


def train_run(
    run: RunConfig,
    dataset: Dataset,
    on_epoch: Callable[[int, dict], None] | None = None,
    fused: bool = True,
    models: CompiledModels | None = None,
):
    """Train one run config on `dataset`; `on_epoch(epoch, metrics)` streams progress. With
    `models`, a model compiled for an earlier run of the same architecture is restarted and
    trained instead of a new one (the same bits, without compiling again)."""
    deterministic = seed_everything(run.seed, run.train.deterministic)
    kept = kept_model(run, dataset, fused, models)
    model = kept.model
    loss_path = detect_loss_path(model)
    # before training, on the validation split: one pass a third the size of the training split
    initial_loss = model.evaluate(**feed(dataset.x_val, dataset.y_val, EVALUATION_BATCH), verbose=0)[0]
    probe = kept.probe = kept.probe or HeadProbe(model, run.formulation.output)
    _, test_logits_before, _ = probe(dataset.x_test)
    recorder = EpochRecorder(model.monitor, probe, dataset, run.train.on_nan == "stop", on_epoch)
    started = time.perf_counter()
    model.fit(
        **feed(dataset.x_train, dataset.y_train, run.train.batch_size, shuffle_seed=run.seed),
        epochs=run.train.epochs,
        validation_data=validation(dataset.x_val, dataset.y_val, run.train.batch_size),
        callbacks=[recorder],
        verbose=0,
    )
    train_seconds = time.perf_counter() - started
    test_loss = model.evaluate(**feed(dataset.x_test, dataset.y_test, EVALUATION_BATCH), verbose=0)[0]
    test_outputs, test_logits, test_probabilities = probe(dataset.x_test)
    return TrainingResult(
        loss_path=loss_path,
        initial_loss=float(initial_loss),
        history=recorder.history,
        events=recorder.events,
        event_count=recorder.event_count,
        skipped_steps=recorder.skipped_steps,
        nan_status=nan_status(recorder.event_count, stopped=run.train.on_nan == "stop"),
        test_loss=float(test_loss),
        test_outputs=test_outputs,
        test_probabilities=test_probabilities,
        test_logits_before=test_logits_before,
        test_logits=test_logits,
        train_seconds=train_seconds,
        deterministic=deterministic,
        steps_per_execution=model.steps_per_execution,
        weights_hash=weights_hash(model),
        model=model,
        reused_model=kept.runs > 1,
    )


def kept_model(run: RunConfig, dataset: Dataset, fused: bool, models: CompiledModels | None) -> KeptModel:
    """The compiled model this run trains: a kept one of its architecture, restarted from a new
    model of its seed, or a new one (kept for the next run when `models` is given)."""
    models = models if models is not None else CompiledModels(size=0)
    steps = epoch_steps(run, dataset) if fused else 1
    kept = models.take(run, dataset, steps)
    if kept is None:
        return models.keep(run, dataset, steps, build_instrumented_model(run, dataset, fused))
    restart(kept, build_run_model(run, dataset))
    return kept
