"""Compiling the repaired model as the original was compiled, for logits: each repaired output's
loss with from_logits=True, and each metric that read a probability (a 0.5 threshold, AUC,
a crossentropy) told that it now reads logits. Every change is named in `changes`."""

import copy
import math

import keras

from kerasce.model.compiled_loss import compiled_losses, named_outputs
from kerasce.model.loss_path import keras_loss
from kerasce.model.loss_spec import SIGMOID_FAMILIES

THRESHOLD_METRICS = ("BinaryAccuracy", "Precision", "Recall")
LOGIT_METRICS = ("AUC", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy")
ARGMAX_METRICS = (
    "accuracy",
    "acc",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
)


def _logit(probability: float) -> float:
    return math.log(probability / (1.0 - probability))


def _logit_metric(metric, binary: bool, changes: list, output: str):
    """The metric as it must read logits; a metric it cannot judge is kept and named in `changes`."""
    if isinstance(metric, str):
        if metric in ("accuracy", "acc", "binary_accuracy") and (binary or metric == "binary_accuracy"):
            changes.append(
                f"{output}: metric {metric!r} -> BinaryAccuracy(threshold=0.0) (logit 0 is p = 0.5)"
            )
            return {
                "module": "keras.metrics",
                "class_name": "BinaryAccuracy",
                "config": {"name": metric, "threshold": 0.0},
            }
        if metric in ARGMAX_METRICS:
            return metric
        changes.append(f"{output}: metric {metric!r} kept; it now reads logits: check it")
        return metric
    if not isinstance(metric, dict) or "class_name" not in metric:
        changes.append(f"{output}: metric {metric!r} kept; it now reads logits: check it")
        return metric
    metric = copy.deepcopy(metric)
    kind, config = metric["class_name"], metric["config"]
    if kind in THRESHOLD_METRICS:
        key = "threshold" if kind == "BinaryAccuracy" else "thresholds"
        value = config.get(key)
        value = 0.5 if value is None else value
        config[key] = [_logit(v) for v in value] if isinstance(value, list) else _logit(value)
        changes.append(
            f"{output}: metric {config.get('name', kind)}: {key} {value} -> {config[key]} (as a logit)"
        )
    elif kind in LOGIT_METRICS:
        config["from_logits"] = True
        changes.append(f"{output}: metric {config.get('name', kind)}: from_logits=True")
    elif kind not in ARGMAX_METRICS:
        changes.append(f"{output}: metric {config.get('name', kind)} kept; it now reads logits: check it")
    return metric


def _metrics(metrics, heads_by_output: dict, outputs: list[str], changes: list):
    """The compile config's metrics (serialized) converted for the repaired outputs."""

    def convert(entries, output):
        head = heads_by_output[output]
        binary = head.loss.family in SIGMOID_FAMILIES
        return [_logit_metric(m, binary, changes, output) for m in entries]

    if not metrics:
        return metrics
    if isinstance(metrics, dict):
        return {
            k: (convert(v if isinstance(v, list) else [v], k) if k in heads_by_output else v)
            for k, v in metrics.items()
        }
    if len(outputs) == 1 and outputs[0] in heads_by_output:
        return convert(metrics, outputs[0])
    if (
        isinstance(metrics, list)
        and len(metrics) == len(outputs)
        and all(isinstance(m, list) for m in metrics)
    ):
        return [convert(m, o) if o in heads_by_output else m for m, o in zip(metrics, outputs, strict=True)]
    changes.append(
        "metrics shared by several outputs kept as they are: those of repaired outputs now read logits"
    )
    return metrics


def _losses(model, heads_by_output: dict):
    losses, structure = compiled_losses(model), getattr(model, "loss", None)
    new = {
        name: keras_loss(heads_by_output[name], True) if name in heads_by_output else loss
        for name, loss in losses.items()
    }
    if isinstance(structure, dict) or (not isinstance(structure, (list, tuple)) and len(new) > 1):
        return {name: loss for name, loss in new.items() if loss is not None}
    values = list(new.values())
    return values if isinstance(structure, (list, tuple)) else values[0]


def compile_like(repaired, model, heads_by_output: dict, changes: list) -> None:
    config = model.get_compile_config() or {}
    outputs = [name for name, _ in named_outputs(model)]
    metrics = _metrics(config.get("metrics"), heads_by_output, outputs, changes)
    weighted = _metrics(config.get("weighted_metrics"), heads_by_output, outputs, changes)
    options = keras.saving.deserialize_keras_object(
        {k: v for k, v in config.items() if k not in ("loss", "metrics", "weighted_metrics")}
    )
    repaired.compile(
        loss=_losses(model, heads_by_output),
        metrics=keras.saving.deserialize_keras_object(metrics) if metrics else None,
        weighted_metrics=keras.saving.deserialize_keras_object(weighted) if weighted else None,
        **{k: v for k, v in options.items() if v is not None},
    )
    changes.append("optimizer: the same config, its state starts afresh")
