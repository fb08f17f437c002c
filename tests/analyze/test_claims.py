"""The claim registry: every claim names a config that exists, groups by keys its grid varies, and
pairs with a wiring the grid trains."""

import pytest

from kerasce.analyze.claims import CLAIMS
from kerasce.analyze.paired import TWIN
from kerasce.config import expand_grid, load_config


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.key)
def test_each_claim_matches_its_experiment(claim):
    base, grid = load_config(claim.config)
    specs = expand_grid(base, grid)
    assert base["name"] == claim.experiment
    assert len({s.config["seed"] for s in specs}) >= 5  # paired intervals need enough seeds
    formulations = {s.config["formulation"] for s in specs}
    assert claim.reference == TWIN or claim.reference in formulations
    assert "formulation" in claim.group_by
