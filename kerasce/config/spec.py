"""One run of a grid: its spec (canonical, hashable data whose identity drives resume) and the
config resolved once into typed options that training, the record and the bench all share."""

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

from kerasce.config.dataset_options import DataOptions
from kerasce.config.fields import ModelOptions, TrainOptions, get_key
from kerasce.config.formulations import Formulation, get_formulation

# Keys that identify a run in its name, in this order; other grid keys follow as key=value.
NAME_KEYS = ("data.dataset", "formulation", "precision")


@dataclass(frozen=True)
class RunConfig:
    """A validated run config with its formulation looked up once."""

    name: str
    formulation: Formulation
    precision: str
    backend: str  # the Keras backend: chosen before Keras is imported, so by the process running the run
    seed: int
    data: DataOptions
    model: ModelOptions
    train: TrainOptions

    @classmethod
    def from_dict(cls, config: dict) -> "RunConfig":
        return cls(
            name=config["name"],
            formulation=get_formulation(config["formulation"]),
            precision=config["precision"],
            backend=config["backend"],
            seed=config["seed"],
            data=DataOptions.from_table(config["data"]),
            model=ModelOptions(**{**config["model"], "hidden_units": tuple(config["model"]["hidden_units"])}),
            train=TrainOptions(**config["train"]),
        )

    @property
    def loss_scaling(self) -> bool:
        """float16 gradients underflow without dynamic loss scaling; bfloat16 has float32's range."""
        return self.precision == "mixed_float16"


@dataclass(frozen=True)
class RunSpec:
    """One grid cell: its whole resolved config as canonical JSON (so the spec is hashable)."""

    config_json: str
    grid_values: tuple  # ((key, value), ...) this cell's grid choices
    # whether this cell draws its group's intuition figures: the first seed of the cells that
    # differ only in the seed (they would show the same picture, at a second a run)
    draws_intuition: bool = True

    @cached_property
    def config(self) -> dict:
        return json.loads(self.config_json)

    @cached_property
    def resolved(self) -> RunConfig:
        return RunConfig.from_dict(self.config)

    @property
    def group_key(self) -> str:
        """Cells with equal keys differ only in their seed."""
        return json.dumps({k: v for k, v in self.config.items() if k != "seed"}, sort_keys=True)

    @property
    def dataset_key(self) -> str:
        """Cells with equal keys see the same dataset split."""
        return json.dumps([self.config["data"], self.config["seed"]], sort_keys=True)

    def identity(self, dataset_fingerprint: str) -> str:
        """The cell's identity: its resolved config and the exact data it sees."""
        return hashlib.sha256((self.config_json + dataset_fingerprint).encode()).hexdigest()[:16]

    @property
    def run_name(self) -> str:
        config, choices = self.config, dict(self.grid_values)
        parts = [str(get_key(config, key)) for key in NAME_KEYS]
        parts += [f"{k}={v}" for k, v in self.grid_values if k not in NAME_KEYS and k != "seed"]
        return " / ".join(parts + [f"seed {choices.get('seed', config['seed'])}"])
