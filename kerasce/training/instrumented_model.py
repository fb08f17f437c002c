"""The instrumented model: the built model's layers with a train step that also feeds the monitor.

The step is the only backend-specific code (TensorFlow: stateful, with a GradientTape; JAX:
stateless, state in and out; PyTorch: eager, with `backward()`); all end in the shared
`record_step`. The monitor's counters are model state, not weights (like Keras' seed generators):
they flow through the JAX step as non-trainable variables, and `get_weights()`, saving and the
weights hash never see them.
"""

import keras

from kerasce.training.instruments import InstabilityMonitor

BACKEND = keras.backend.backend()
if BACKEND == "tensorflow":
    from kerasce.training.tensorflow_step import train_step
elif BACKEND == "jax":
    from kerasce.training.jax_step import train_step
elif BACKEND == "torch":
    from kerasce.training.torch_step import train_step
else:

    def train_step(model, *args):
        """Keras' own step would leave the counters at zero: refuse rather than report nothing."""
        raise NotImplementedError(
            f"kerasce's training instruments have a train step for TensorFlow, JAX and PyTorch, not {BACKEND}"
        )


class InstrumentedModel(keras.Model):
    """The same layers as the built model, with a train step that also feeds the monitor."""

    monitor: InstabilityMonitor | None = None

    @property
    def variables(self):
        # Keras threads `non_trainable_variables` (derived from this) through the JAX train step
        own = super().variables
        return own + self.monitor.variables if self.monitor is not None else own

    train_step = train_step
