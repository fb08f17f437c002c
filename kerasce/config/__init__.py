"""The config stage: TOML configs validated without TensorFlow, expanded into run specs, each
resolved once into typed options."""

from kerasce.config.fields import (
    BACKENDS,
    CHOICES,
    DEFAULTS,
    OPTIMIZERS,
    PRECISIONS,
    ModelOptions,
    TrainOptions,
    get_key,
    validate,
)
from kerasce.config.loading import expand_grid, load_config, parse_config, parse_override, set_key
from kerasce.config.spec import NAME_KEYS, RunConfig, RunSpec

__all__ = [
    "BACKENDS",
    "CHOICES",
    "DEFAULTS",
    "NAME_KEYS",
    "OPTIMIZERS",
    "PRECISIONS",
    "ModelOptions",
    "RunConfig",
    "RunSpec",
    "TrainOptions",
    "expand_grid",
    "get_key",
    "load_config",
    "parse_config",
    "parse_override",
    "set_key",
    "validate",
]
