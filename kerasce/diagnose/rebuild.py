"""A model rebuilt under another precision policy with the same weights and the same losses.

A layer's policy is part of its saved config, so setting the global policy changes nothing for a
loaded model's layers: the config itself is rewritten. Layers that follow the model's own policy
take the new one; layers the user pinned to another policy (a float32 head under mixed precision)
keep it. Sublayers a custom layer makes in its `__init__` without a dtype take the global policy:
it is set to the new one while the model is rebuilt (and restored after), so they follow too.
"""

import collections
import copy
import warnings
from collections.abc import Mapping

import keras

from kerasce.model.compiled_loss import compiled_losses


def _policy_name(dtype) -> str | None:
    """The policy name in a layer config's `dtype` entry, or None for an entry that is no policy."""
    if isinstance(dtype, dict) and dtype.get("class_name") == "DTypePolicy":
        return dtype["config"]["name"]
    return None


def _layer_configs(config):
    """Every layer config inside a model config, nested models included."""
    if isinstance(config, dict):
        if "class_name" in config and isinstance(config.get("config"), dict):
            yield config
        for value in config.values():
            yield from _layer_configs(value)
    elif isinstance(config, list):
        for item in config:
            yield from _layer_configs(item)


def base_policy(model: keras.Model) -> str:
    """The policy most of the model's layers follow: the one it was built under."""
    names = [_policy_name(c["config"].get("dtype")) for c in _layer_configs(model.get_config())]
    counts = collections.Counter(name for name in names if name)
    return counts.most_common(1)[0][0] if counts else "float32"


def with_policy(config: dict, base: str, policy: str) -> dict:
    """A copy of a model config whose layers under `base` are under `policy` instead."""
    config = copy.deepcopy(config)
    for layer in _layer_configs(config):
        if _policy_name(layer["config"].get("dtype")) == base:
            layer["config"]["dtype"]["config"]["name"] = policy
    return config


def from_config_under(model_class, config: dict, policy: str) -> keras.Model:
    """`model_class.from_config(config)` with `policy` as the global policy meanwhile."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras' notes on dict-input names and the like
            return model_class.from_config(config)
    finally:
        keras.config.set_dtype_policy(previous)


def same_losses(model: keras.Model):
    """The model's compiled losses as `compile` takes them (one, a list, or a dict by output)."""
    losses = compiled_losses(model)
    structure = getattr(model, "loss", None)
    if isinstance(structure, Mapping):
        return {name: loss for name, loss in losses.items() if loss is not None}
    if isinstance(structure, (list, tuple)):
        return list(losses.values())
    return structure


def rebuild_under(model: keras.Model, policy: str) -> keras.Model:
    """`model` under `policy`: same layers, same weights, compiled with the same losses."""
    config = with_policy(model.get_config(), base_policy(model), policy)
    rebuilt = from_config_under(type(model), config, policy)
    rebuilt.set_weights(model.get_weights())
    rebuilt.compile(loss=same_losses(model))
    return rebuilt
