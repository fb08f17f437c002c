"""`python -m kerasce.audit MODEL --fix OUT.keras`: the model repaired so that its loss sees logits.

The repaired model is the same model with each repaired head made linear (the activation inside
the layer making the logits set to `linear`, or a separate Activation/Softmax layer turned into a
linear Activation of the same name, so output names stay), the weights copied, and compiled as
the original was (a fresh optimizer with the same config, the same metrics, loss weights and
options) except that each repaired output's loss is the same loss with from_logits=True. Metrics
that read a probability (a 0.5 threshold, AUC) are told they now read logits.

Its `predict` returns logits. For probabilities, `with_probabilities(model)` puts each repaired
activation back as a final layer in front of the *same* layers; the file written next to OUT
(`OUT.probabilities.keras`) is that model for the weights as they are now. The repair proves
itself before anything is written: the probabilities of the two agree with the original's, and
the repaired model, audited on every installed backend and precision, takes the fused path.
"""

import copy
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
from scipy.special import expit, softmax

from kerasce.diagnose.fixes import inference_activation
from kerasce.diagnose.loading import AuditError
from kerasce.diagnose.rebuild import base_policy, from_config_under
from kerasce.diagnose.recompile import compile_like
from kerasce.errors import ExitCode, KerasceError
from kerasce.model.compiled_loss import named_outputs
from kerasce.model.head_outputs import input_structure
from kerasce.model.heads import Head
from kerasce.model.loss_path import PROBE_LENGTH
from kerasce.model.loss_spec import BINARY_FOCAL, CATEGORICAL_FOCAL, CLASS_NAMES
from kerasce.vocabulary import LossPath, OutputKind

PROBABILITY_TOLERANCE = 1e-4  # the repaired probabilities may differ from the original's by rounding only
CHECK_SAMPLES = 64


class RepairFailed(KerasceError):
    """The repaired model did not prove itself: a kerasce bug, nothing was written."""

    exit_code = ExitCode.INTERNAL


@dataclass
class Repair:
    """What --fix did: the repaired model, the activation each repaired output needs at inference,
    and what changed besides the head and the loss."""

    model: keras.Model
    activations: dict  # output -> activation applied at inference
    changes: list[str] = field(default_factory=list)
    max_probability_difference: dict = field(default_factory=dict)  # output -> max |p - p_original|
    check_inputs: str = ""
    reaudit: list = field(default_factory=list)  # (output, backend, precision, loss path)

    def to_dict(self) -> dict:
        return {
            "activations": self.activations,
            "changes": self.changes,
            "max_probability_difference": self.max_probability_difference,
            "check_inputs": self.check_inputs,
            "reaudit": [
                dict(zip(("output", "backend", "precision", "loss_path"), r, strict=True))
                for r in self.reaudit
            ],
        }


def needs_repair(head: Head) -> bool:
    """Does the loss read something other than logits (or logits it takes for probabilities), or
    is it a Keras focal loss, which clips whatever it reads (so --fix must say it cannot help)?"""
    if head.loss.family in (CATEGORICAL_FOCAL, BINARY_FOCAL):
        return True
    if head.output_kind == OutputKind.LOG_PROBABILITIES:
        return head.from_logits is False  # log-probabilities read as probabilities
    return not (head.output_kind == OutputKind.LOGITS and head.from_logits)


def refusal(head: Head) -> str | None:
    """Why this head cannot be repaired by wiring (None: it can)."""
    if head.loss.family is None:
        return f"its loss {head.loss.name} is not a Keras cross-entropy kerasce can set from_logits on"
    if head.loss.family not in CLASS_NAMES:
        return (
            f"it uses kerasce's own {head.loss.name}; compile with "
            "SparseCategoricalCrossentropy(from_logits=True)"
        )
    if head.loss.family == CATEGORICAL_FOCAL:
        return "Keras' CategoricalFocalCrossentropy clips its probabilities even with from_logits=True"
    if head.loss.family == BINARY_FOCAL:
        return (
            "Keras' BinaryFocalCrossentropy clips its probabilities even with from_logits=True on JAX "
            "and PyTorch; a focal loss written with log-sigmoid does not"
        )
    if head.output_kind == OutputKind.PROBABILITIES and head.activation not in ("softmax", "sigmoid"):
        return f"its activation {head.activation!r} is not softmax or sigmoid"
    return None


def _top_layer(config: dict, name: str) -> dict:
    for entry in config["layers"]:
        if entry["config"].get("name") == name:
            return entry
    raise AuditError(f"--fix: the layer {name!r} is not in the model's top level; it cannot be rewired")


def linear_config(config: dict, heads: list[Head]) -> dict:
    """A copy of the model config with each head's activation made linear."""
    config = copy.deepcopy(config)
    for head in heads:
        if head.activation_layer is None:
            _top_layer(config, head.logits_layer)["config"]["activation"] = "linear"
            continue
        entry = _top_layer(config, head.activation_layer)
        old = entry["config"]
        entry.update({"module": "keras.layers", "class_name": "Activation", "registered_name": None})
        entry["config"] = {
            "name": old["name"],
            "trainable": old.get("trainable", True),
            "dtype": old.get("dtype"),
            "activation": "linear",
        }
        _drop_mask_arguments(entry, head)
    return config


def _drop_mask_arguments(entry: dict, head: Head) -> None:
    """A Softmax layer is called with `mask=`; the linear Activation replacing it takes none. A
    mask that is set cannot be carried to the logits: refused."""
    for node in entry.get("inbound_nodes", []):
        arguments = node.get("kwargs", {}) if isinstance(node, dict) else {}
        if arguments.get("mask") is not None:
            raise AuditError(
                f"--fix: {head.activation_layer!r} applies a mask to its softmax; a linear head cannot "
                "carry it to the loss: mask the logits yourself (a large negative value) and compile "
                f"with {head.loss.describe(from_logits=True)}"
            )
        arguments.pop("mask", None)


def repair(model: keras.Model, heads: list[Head]) -> Repair:
    """The repaired model for the heads that need it; AuditError when one of them cannot be."""
    todo = [h for h in heads if needs_repair(h)]
    if not todo:
        raise AuditError("--fix: nothing to repair: every audited output already gives its loss logits")
    refused = [f"{h.output}: {refusal(h)}" for h in todo if refusal(h)]
    if refused:
        raise AuditError(f"--fix: cannot repair {'; '.join(refused)}")
    repaired = from_config_under(type(model), linear_config(model.get_config(), todo), base_policy(model))
    repaired.set_weights(model.get_weights())
    changes = [
        f"{h.output}: {h.describe()} -> linear; "
        f"loss {h.loss.describe()} -> {h.loss.describe(from_logits=True)}"
        for h in todo
    ]
    compile_like(repaired, model, {h.output: h for h in todo}, changes)
    activations = {h.output: inference_activation(h) for h in todo}
    return Repair(repaired, activations, changes)


def _activation_dtype(model, head: Head) -> str:
    layer = model.get_layer(head.activation_layer or head.logits_layer)
    return layer.dtype_policy.name


def with_probabilities(model: keras.Model, activations: dict, dtypes: dict | None = None) -> keras.Model:
    """`model` (its same layers) with `activations[output]` applied to each named output: for
    `predict` after training the repaired model. A plain Keras model: no kerasce needed to load it."""
    dtypes = dtypes or {}
    outputs = {}
    for name, tensor in named_outputs(model):
        if name in activations:
            layer = keras.layers.Activation(
                activations[name], dtype=dtypes.get(name), name=f"{name}_probabilities"
            )
            tensor = layer(tensor)
        outputs[name] = tensor
    structure = getattr(model, "output", None) if len(outputs) > 1 else None
    if isinstance(structure, dict):
        result = outputs
    else:
        result = list(outputs.values()) if len(outputs) > 1 else next(iter(outputs.values()))
    return keras.Model(input_structure(model), result, name=f"{model.name}_probabilities")


def random_features(model: keras.Model, n: int = CHECK_SAMPLES, seed: int = 0):
    """Seeded random inputs: normal floats; integers 0 or 1 (a valid token id for any embedding)."""
    rng = np.random.default_rng(seed)

    def values(tensor):
        shape = (n, *(PROBE_LENGTH if d is None else d for d in tensor.shape[1:]))
        dtype = keras.backend.standardize_dtype(tensor.dtype)
        if "int" in dtype or dtype == "bool":
            return rng.integers(0, 2, size=shape).astype(dtype)
        return rng.normal(size=shape).astype(dtype)

    return keras.tree.map_structure(values, input_structure(model))


def _by_name(model, predicted) -> dict:
    names = [name for name, _ in named_outputs(model)]
    if isinstance(predicted, dict):
        return {k: np.asarray(v, np.float64) for k, v in predicted.items()}
    predicted = predicted if isinstance(predicted, (list, tuple)) else [predicted]
    return {name: np.asarray(v, np.float64) for name, v in zip(names, predicted, strict=True)}


def _activated(values, activation: str) -> np.ndarray:
    """The activation applied in float64 (to an original head that gave raw logits to its loss)."""
    if activation == "sigmoid":
        return expit(values)
    return softmax(values, axis=-1) if activation == "softmax" else values


def probability_differences(original, probabilities_model, activations: dict, features, raw=()) -> dict:
    """Per repaired output: max |p_repaired - p_original| on `features`. Outputs in `raw` gave the
    loss logits it read as probabilities: their original probabilities are the activation of them."""
    before = _by_name(original, original.predict(features, verbose=0))
    # the same outputs in the same order (their layers are named <output>_probabilities)
    after = _by_name(original, probabilities_model.predict(features, verbose=0))
    before = {name: _activated(v, activations[name]) if name in raw else v for name, v in before.items()}
    return {name: float(np.max(np.abs(after[name] - before[name]))) for name in activations}


def probabilities_path(out: Path) -> Path:
    return out.with_name(out.name[: -len(".keras")] + ".probabilities.keras")


def write_repair(model, heads, out, features, check_inputs: str, reaudit) -> Repair:
    """Repair, check the probabilities, save into a temporary folder, re-audit the saved file
    with `reaudit(path)` (rows), then move both files into place. RepairFailed: nothing written."""
    out = Path(out)
    result = repair(model, heads)
    dtypes = {h.output: _activation_dtype(model, h) for h in heads if h.output in result.activations}
    probabilities = with_probabilities(result.model, result.activations, dtypes)
    raw = {h.output for h in heads if h.output_kind == OutputKind.LOGITS}
    result.max_probability_difference = probability_differences(
        model, probabilities, result.activations, features, raw
    )
    result.check_inputs = check_inputs
    worst = max(result.max_probability_difference.values())
    if not worst <= PROBABILITY_TOLERANCE:
        raise RepairFailed(
            f"--fix: the repaired probabilities differ from the original's by {worst:.3g}; nothing written"
        )
    with tempfile.TemporaryDirectory(dir=out.parent) as directory:
        staged = Path(directory) / "repaired.keras"
        result.model.save(staged)
        probabilities.save(Path(directory) / "repaired.probabilities.keras")
        rows = [r for r in reaudit(staged) if r.output in result.activations]
        result.reaudit = [(r.output, r.backend, r.precision, r.loss_path) for r in rows]
        unfused = [r for r in rows if r.loss_path != LossPath.FUSED_LOGITS]
        if unfused or not rows:
            listed = (
                ", ".join(f"{r.output} {r.backend} {r.precision}: {r.loss_path}" for r in unfused)
                or "no rows"
            )
            raise RepairFailed(
                f"--fix: the repaired model does not take the fused path everywhere ({listed}); "
                "nothing written"
            )
        shutil.move(staged, out)
        shutil.move(Path(directory) / "repaired.probabilities.keras", probabilities_path(out))
    return result
