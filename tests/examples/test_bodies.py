"""The example body (a small CNN) and experiments/cnn_digits.toml, end to end into a real store."""

import keras
import pytest

from kerasce import api
from kerasce.examples.bodies import small_cnn
from kerasce.tracking.reader import StoreReader
from kerasce.tracking.schema import Kind, Tag
from tests.helpers import ROOT


def test_the_small_cnn_takes_images_with_or_without_a_channel_axis():
    for shape in ((8, 8, 1), (8, 8)):
        features = keras.Input(shape)
        for layer in small_cnn(shape):
            features = layer(features)
        assert features.shape == (None, 32)


@pytest.mark.slow
def test_the_cnn_digits_grid_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the config names its data file relative to the repository
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    overrides = ["train.epochs=1", "train.figures=false", "grid.formulation=['softmax_ce']"]
    grid = api.load_grid(ROOT / "experiments" / "cnn_digits.toml", overrides)
    result = api.run_grid(grid, uri, jobs=1)
    assert [o.status for o in result.outcomes] == ["FINISHED"] * 2
    runs = StoreReader(uri).runs(["cnn-digits"])
    cells = runs[runs[f"tags.{Tag.KIND}"] == Kind.CELL]
    paths = dict(zip(cells[f"tags.{Tag.PRECISION}"], cells[f"tags.{Tag.LOSS_PATH}"], strict=True))
    assert paths == {"float32": "recovered_logits", "mixed_float16": "clipped_probabilities"}
