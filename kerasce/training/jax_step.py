"""The instrumented train step on JAX: Keras' own stateless step (`keras/src/backend/jax/trainer.py`)
with the shared counting run in a StatelessScope, so the counters' new values leave the jitted
step as part of its non-trainable state, with no host synchronisation."""

import jax
import keras

from kerasce.training.instruments import record_step


def _stateless(variables, values, function):
    """Run stateful Keras code with `variables` read as `values`; its result and their new values."""
    with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))) as scope:
        result = function()
    return result, [scope.get_current_value(v) for v in variables]


def train_step(model, state, data):
    trainable, non_trainable, optimizer_state, metrics_state = state
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    gradient_function = jax.value_and_grad(model.compute_loss_and_updates, has_aux=True)
    (_, (loss, y_pred, non_trainable, metrics_state)), gradients = gradient_function(
        trainable,
        non_trainable,
        metrics_state,
        x,
        y,
        sample_weight,
        training=True,
        optimizer_variables=optimizer_state,
    )
    # the gradients are of the scaled loss: the scale before the optimizer updates it unscales them
    loss_scale, _ = _stateless(
        model.optimizer.variables, optimizer_state, lambda: model.optimizer.scale_loss(1.0)
    )
    trainable, optimizer_state = model.optimizer.stateless_apply(optimizer_state, gradients, trainable)
    recorded = model.non_trainable_variables + model.metrics_variables
    logs, values = _stateless(
        recorded,
        [*non_trainable, *metrics_state],
        lambda: record_step(model, loss, gradients, loss_scale, data, y_pred),
    )
    split = len(non_trainable)
    return logs, (trainable, values[:split], optimizer_state, values[split:])
