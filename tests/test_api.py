"""The public Python API, used as a script would use it."""

import pytest

import kerasce
from kerasce import api
from kerasce.errors import ConfigError, KerasceError


def test_a_grid_loads_from_a_file_or_a_dict_with_overrides():
    from_file = api.load_grid("experiments/smoke.toml", ["train.epochs=1"], experiment_name="mine")
    assert from_file.name == "mine" and len(from_file.specs) == 4
    assert {s.resolved.train.epochs for s in from_file.specs} == {1}
    from_dict = api.load_grid({"name": "d", "grid": {"seed": [0, 1, 2]}})
    assert len(from_dict.table()) == 3 and len(from_dict.datasets) == 3
    with pytest.raises(ConfigError, match="train.epochs"):
        api.load_grid({"train": {"epochs": 0}})


def test_the_package_exposes_the_api():
    assert kerasce.load_grid is api.load_grid and kerasce.write_report is api.write_report


@pytest.mark.slow
def test_compare_returns_tables_and_figures(finished_store):
    comparison = api.compare(["cmp"], finished_store, metrics=["test_loss", "test_accuracy"])
    assert comparison.group_keys == ["data.dataset", "data.max_samples", "formulation"]
    assert len(comparison.table) == 3 and set(comparison.table["n_runs"]) == {2}
    assert "digits_pr_curves.png" in comparison.images and "comparison.html" in comparison.texts


def test_an_unknown_executor_is_refused_before_any_store_is_touched(tmp_path):
    grid = api.load_grid({"name": "e"})
    with pytest.raises(KerasceError, match="executor: 'slurm' is not valid; choose local or ray"):
        api.run_grid(grid, f"sqlite:///{tmp_path / 'mlflow.db'}", executor="slurm")
    assert not (tmp_path / "mlflow.db").exists()
