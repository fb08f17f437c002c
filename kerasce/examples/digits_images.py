"""scikit-learn's 8x8 digits as images (n, 8, 8, 1) in a .npz for `dataset = "npz"`: what
experiments/cnn_digits.toml trains on. `python -m kerasce.examples.digits_images PATH` writes it."""

import sys

import numpy as np

DEFAULT_PATH = "experiments/data/digits_8x8.npz"


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    """(images (1797, 8, 8, 1) with values 0..16 as uint8, labels 0..9)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.uint8)[..., None], bunch.target.astype(np.int64)


def write_digits_images(path=DEFAULT_PATH) -> None:
    images, labels = digits_images()
    np.savez_compressed(path, x=images, y=labels, class_names=np.array([str(k) for k in range(10)]))


if __name__ == "__main__":
    write_digits_images(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PATH)
