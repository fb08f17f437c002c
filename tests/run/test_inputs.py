"""A grid's inputs are checked before anything runs."""

import pytest

from kerasce.config import expand_grid, parse_config
from kerasce.errors import ConfigError
from kerasce.run.inputs import grid_table, load_datasets


def test_each_split_is_loaded_once_and_tabled():
    config, tables = parse_config(
        {
            "data": {"dataset": "digits", "max_samples": 200},
            "grid": {"formulation": ["softmax_ce", "logits_ce"]},
        }
    )
    specs = expand_grid(config, tables)
    datasets = load_datasets(specs)
    assert len(datasets) == 1
    table = grid_table(specs, datasets)
    assert list(table["formulation"]) == ["softmax_ce", "logits_ce"] and table["cell_hash"].nunique() == 2


def test_a_single_unit_head_on_ten_classes_names_the_cell():
    config, tables = parse_config({"grid": {"formulation": ["logits_ce", "sigmoid_bce"]}})
    with pytest.raises(ConfigError, match="digits / sigmoid_bce / float32 / seed 0: .*10 classes"):
        load_datasets(expand_grid(config, tables))
