"""The 8x8 digits as images, and the copy experiments/cnn_digits.toml reads."""

import numpy as np

from kerasce.examples.digits_images import DEFAULT_PATH, digits_images
from tests.helpers import ROOT


def test_the_shipped_file_holds_the_digits_as_images():
    images, labels = digits_images()
    assert images.shape == (1797, 8, 8, 1) and labels.max() == 9
    shipped = np.load(ROOT / DEFAULT_PATH)
    np.testing.assert_array_equal(shipped["x"], images)
    np.testing.assert_array_equal(shipped["y"], labels)
