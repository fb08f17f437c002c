"""What a run's fit and evaluations are fed.

On TensorFlow, Keras turns arrays into a tf.data pipeline that autotunes thread pools of its own
in every process, and two workers' pools then fight over the cores; the seeded single-threaded
pipeline below keeps a worker's fit as fast beside another as alone (docs/performance.md). Other
backends get the arrays, as Keras batches and shuffles them itself there.
"""

import keras
import numpy as np


def on_tensorflow() -> bool:
    return keras.backend.backend() == "tensorflow"


def lean_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    """`(x, y)` as a tf.data pipeline in batches: no autotuning, one thread. `shuffle_seed`:
    reshuffled every epoch, the same way for the same seed; None keeps the order."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    return dataset.batch(batch_size).with_options(options)


def feed(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None = None) -> dict:
    """Keyword arguments that give `(x, y)` in batches to `model.evaluate`, or, with a
    `shuffle_seed`, to `model.fit`."""
    if on_tensorflow():
        arguments = {"x": lean_pipeline(x, y, batch_size, shuffle_seed)}
    else:
        arguments = {"x": x, "y": y, "batch_size": batch_size}
    if shuffle_seed is not None:  # fit's own shuffle: arrays only (a pipeline is shuffled already)
        arguments["shuffle"] = not on_tensorflow()
    return arguments


def validation(x: np.ndarray, y: np.ndarray, batch_size: int):
    """`validation_data` for `model.fit`."""
    return lean_pipeline(x, y, batch_size) if on_tensorflow() else (x, y)
