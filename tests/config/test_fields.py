"""The config's fields are defined once (kerasce/config/fields.py): the defaults, the choices and
the documented config reference (docs/experiments.md) all follow from them."""

import re
import tomllib
from pathlib import Path

from kerasce.config.fields import (
    CHOICES,
    DEFAULTS,
    POSITIVE,
    TABLES,
    ModelOptions,
    TrainOptions,
    table_defaults,
)

CONFIG_REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "experiments.md"


def documented_config() -> str:
    text = CONFIG_REFERENCE.read_text()
    return re.search(r"## Configs\n.*?```toml\n(.*?)```", text, re.S).group(1)


def test_the_tables_defaults_are_the_option_classes_defaults():
    assert DEFAULTS["train"] == table_defaults(TrainOptions)
    assert DEFAULTS["model"]["hidden_units"] == list(ModelOptions().hidden_units)
    assert CHOICES["train.optimizer"] == ("adam", "adamw", "rmsprop", "sgd")
    assert {"train.epochs", "train.learning_rate", "model.logit_scale"} <= POSITIVE
    assert set(TABLES) == {"model", "train"}


def test_the_documented_config_is_the_default_config():
    documented = tomllib.loads(documented_config())
    documented.pop("grid")
    assert documented == DEFAULTS


def test_the_documented_choices_are_the_valid_ones():
    section, checked = "", []
    for line in documented_config().splitlines():
        if line.startswith("["):
            section = line[1 : line.index("]")] + "."
            continue
        match = re.fullmatch(r'(\w+) = "?[\w.]+"?\s+# (\w+(?: \| \w+)+)(?: \(.*\))?', line.strip())
        if match and section + match.group(1) in CHOICES:
            assert tuple(match.group(2).split(" | ")) == CHOICES[section + match.group(1)], line
            checked.append(section + match.group(1))
    assert checked == ["precision", "backend", "train.optimizer"]
