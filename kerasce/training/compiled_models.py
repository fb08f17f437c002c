"""Compiled models kept between the runs of one process, one per architecture.

Keras traces (TensorFlow) or compiles (JAX) a model's train, test and predict functions the first
time it fits, evaluates or predicts, and a traced function serves only the model it was traced
for: on a small model that is most of a run's time. A run whose config differs from an earlier
run's only in its seed therefore trains the earlier run's compiled model, restarted from the state
a new model of its own seed would have: that model's variables (weights and seed generators), and
the optimizer's and the monitor's variables as they were before the first step.
The weights and losses equal a new model's to the bit (tests/training/test_compiled_models.py).
"""

import dataclasses
from collections import OrderedDict

import keras

from kerasce.config.spec import RunConfig
from kerasce.datasets import Dataset

KEPT_MODELS = 16  # per process; a grid's cells come seed after seed, so a few suffice


@dataclasses.dataclass
class KeptModel:
    model: keras.Model
    start: list  # (variable, value): the optimizer's and the monitor's state before the first step
    probe: object = None  # the runs' HeadProbe of this model, traced once too
    runs: int = 1  # the runs that trained it, this one included


class CompiledModels:
    """The compiled models of the runs this process trained, by architecture (the run config but
    its seed, and the shape of the data): at most `size` (0: none kept), the least recently used
    dropped."""

    def __init__(self, size: int = KEPT_MODELS):
        self.size = size
        self.kept: OrderedDict[str, KeptModel] = OrderedDict()

    def take(self, run: RunConfig, dataset: Dataset, steps: int) -> KeptModel | None:
        """The kept model of this run's architecture, if one was kept, counting this run and most
        recently used now."""
        key = architecture(run, dataset, steps)
        kept = self.kept.get(key)
        if kept is not None:
            self.kept.move_to_end(key)
            kept.runs += 1
        return kept

    def keep(self, run: RunConfig, dataset: Dataset, steps: int, model: keras.Model) -> KeptModel:
        """Keep a new compiled model, not trained yet: its optimizer is built now so that its
        starting state can be restored for the next run."""
        model.optimizer.build(model.trainable_variables)
        state = [*model.optimizer.variables, *model.monitor.variables]
        kept = KeptModel(model, [(v, keras.ops.convert_to_numpy(v)) for v in state])
        self.kept[architecture(run, dataset, steps)] = kept
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)
        return kept


def architecture(run: RunConfig, dataset: Dataset, steps: int) -> str:
    """What a compiled model depends on: everything in the run config but its seed and name, the
    data's shapes and types, and the batches of each compiled call."""
    unseeded = dataclasses.replace(run, seed=0, name="")
    x, y = dataset.x_train, dataset.y_train
    return repr((unseeded, x.shape[1:], str(x.dtype), y.shape[1:], str(y.dtype), dataset.n_classes, steps))


def restart(kept: KeptModel, new: keras.Model) -> None:
    """Set the kept model to the state `new` (built, not compiled, from the run's seed) starts in."""
    model = kept.model
    own = keras.Model.variables.fget(model)  # without the monitor's counters
    if [v.shape for v in own] != [v.shape for v in new.variables]:
        raise ValueError("a kept model and a new one of its architecture differ in their variables")
    for variable, value in zip(own, new.variables, strict=True):
        variable.assign(value)
    for variable, value in kept.start:
        variable.assign(value)
