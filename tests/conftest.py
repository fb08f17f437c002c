"""Fixtures shared by the test modules."""

import pytest

from kerasce import api

# digits x {softmax_ce, logits_ce} x seeds {0, 1}, plus breast_cancer x logit_bce x seeds {0, 1}
COMPARE_GRID = {
    "name": "cmp",
    "model": {"hidden_units": [8]},
    "train": {"epochs": 2},
    "grid": [
        {
            "data.dataset": ["digits"],
            "data.max_samples": [200],
            "formulation": ["softmax_ce", "logits_ce"],
            "seed": [0, 1],
        },
        {"data.dataset": ["breast_cancer"], "formulation": ["logit_bce"], "seed": [0, 1]},
    ],
}


@pytest.fixture(scope="session")
def finished_store(tmp_path_factory):
    """One store with a small finished grid (experiment `cmp`, 6 runs) and an empty experiment
    (`empty`), shared by every test that only reads runs. Building it trains: mark users slow."""
    from kerasce.tracking.writer import Tracker

    uri = f"sqlite:///{tmp_path_factory.mktemp('finished') / 'mlflow.db'}"
    result = api.run_grid(api.load_grid(COMPARE_GRID), uri)
    assert [o.status for o in result.outcomes] == ["FINISHED"] * 6
    Tracker(uri, "empty")
    return uri
