"""docs/records.md's tables are the schema's: the page is regenerated and compared, and a stored
name without a meaning stops the rendering."""

import subprocess
import sys

import numpy as np
import pytest

from kerasce.evaluate.metrics import evaluate_predictions
from kerasce.tracking import schema
from kerasce.tracking.schema_doc import PAGE, SchemaDocError, render


def test_the_records_page_is_what_the_schema_renders():
    current = PAGE.read_text()
    assert render(current) == current, "docs/records.md is out of date: run `make docs`"


def test_every_stored_name_appears_on_the_page():
    page = PAGE.read_text()
    for name in [*schema.TAG_MEANINGS, *schema.METRIC_MEANINGS, *schema.ARTIFACT_MEANINGS]:
        assert f"`{name}" in page


def test_a_tag_without_a_meaning_stops_the_rendering(monkeypatch):
    monkeypatch.setattr(schema.Tag, "NEW_TAG", "kerasce.new_tag", raising=False)
    with pytest.raises(SchemaDocError, match="kerasce.new_tag"):
        render(PAGE.read_text())


def test_a_page_without_a_region_is_refused():
    with pytest.raises(SchemaDocError, match="missing"):
        render("# records\n")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_every_test_metric_the_evaluation_computes_has_a_meaning(n_classes):
    rng = np.random.default_rng(0)
    labels = np.arange(60) % n_classes
    probabilities = rng.dirichlet(np.ones(n_classes), size=60)
    results, _ = evaluate_predictions(labels, probabilities, [f"c{k}" for k in range(n_classes)])
    described = schema.TEST_METRIC_MEANINGS
    for name in results:
        stored = schema.Metric.TEST_PREFIX + name
        per_class = stored.rsplit(".", 1)[0] + ".<class>"
        assert stored in described or per_class in described, stored


def test_make_docs_rewrites_a_stale_page_and_check_says_so(tmp_path):
    page = tmp_path / "records.md"
    page.write_text(PAGE.read_text().replace("| `kerasce.loss_path` |", "| `kerasce.old_name` |"))
    command = [sys.executable, "-m", "kerasce.tracking.schema_doc", "--page", str(page)]
    stale = subprocess.run([*command, "--check"], capture_output=True, text=True)
    assert stale.returncode == 1 and "out of date" in stale.stderr
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert page.read_text() == PAGE.read_text()
