"""The suite's scheduling (tests/conftest.py) under `make test`: pytest -n 2 --dist loadgroup."""

import pytest


@pytest.mark.xdist_group("scheduling-check")
def test_pytest_xdist_keeps_a_group_on_one_worker(request):
    """pytest-xdist sends a group to one worker by the `@group` it appends to the test's id. With
    pytest 9.2 that append is lost (pytest-xdist#1386) and the groups are silently spread over
    the workers: every shared fixture is then built once per worker, and the fault tests that
    share one tracking server run against each other."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup")
    assert request.node.nodeid.endswith("@scheduling-check"), "groups lost: see pyproject.toml"
