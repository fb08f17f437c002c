"""Your own model with kerasce's instrumented train step: `kerasce.instrument(model)`.

The returned model holds the *same* layers (so the same weights: train it, save the original) and
trains with the step that counts non-finite batches, gradient norms, steps skipped by loss
scaling and samples in the clipped dead zone (kerasce/training/instruments.py). The monitor is
attached when it is compiled, since what the dead zone means depends on the compiled loss.
"""

import keras

from kerasce.errors import KerasceError
from kerasce.model.head_outputs import input_structure
from kerasce.model.heads import label_format, output_kind
from kerasce.training.instrumented_model import InstrumentedModel
from kerasce.training.instruments import InstabilityMonitor


class InstrumentError(KerasceError):
    """The model cannot be given the instrumented train step; the message says why."""


class UserInstrumentedModel(InstrumentedModel):
    """An InstrumentedModel whose monitor is built from whatever it is compiled with."""

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        loss_scaling = isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)
        self.monitor = InstabilityMonitor(output_kind(self), loss_scaling, _label_format(self))


def _label_format(model) -> str | None:
    """The labels the compiled loss reads; None (the monitor reads the shapes) when kerasce cannot
    tell: compiling a user's model never fails because kerasce watches it."""
    try:
        return label_format(model)
    except Exception:  # a loss or head kerasce cannot read
        return None


def _symbolic_graph(model: keras.Model):
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise InstrumentError(
            f"model {model.name!r} has no input yet: start it with keras.Input(shape) (or call "
            "model.build(input_shape)) so its layers can be reused"
        )
    if len(outputs) != 1:
        raise InstrumentError(f"model {model.name!r} has {len(outputs)} outputs; instrument takes one")
    return inputs, outputs


def instrument(model: keras.Model) -> InstrumentedModel:
    """`model`'s layers with kerasce's instrumented train step (Sequential or functional, on
    TensorFlow, JAX and PyTorch). If `model` is compiled, the result is compiled the same way
    (fresh optimizer state); otherwise compile the result."""
    _, outputs = _symbolic_graph(model)
    # the inputs as the model is called (one tensor, a list, or a dict), so `fit` takes the same x
    instrumented = UserInstrumentedModel(input_structure(model), outputs[0], name=model.name)
    if getattr(model, "compiled", False):
        config = keras.saving.deserialize_keras_object(model.get_compile_config())
        instrumented.compile(**config)
    return instrumented
