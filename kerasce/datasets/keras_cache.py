"""MNIST and Fashion-MNIST as keras.datasets caches them: read from $KERAS_HOME/datasets, and
downloaded there once (sha256 checked, progress shown) when missing, from the official origin or
a mirror (data.origin or $KERASCE_DATASETS_ORIGIN)."""

import gzip
import hashlib
import http.client
import json
import os
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kerasce.errors import DatasetError

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FASHION_MNIST_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# Where missing files are downloaded from: a base URL (or a local folder) holding the files under
# their Keras names, e.g. a mirror. The [data] option `origin` overrides it.
ORIGIN_ENV = "KERASCE_DATASETS_ORIGIN"
# For mirrors that re-pack the files: a JSON object {file name: sha256} overriding OFFICIAL_SHA256.
SHA256_ENV = "KERASCE_DATASETS_SHA256"
# The sha256 of the official files. mnist.npz: keras/src/datasets/mnist.py. Keras' fashion_mnist.py
# checks no hash; these are the Fashion-MNIST release files' (tensorflow_datasets'
# url_checksums/fashion_mnist.txt), which Keras re-hosts with the same sizes.
OFFICIAL_SHA256 = {
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
DOWNLOAD_TIMEOUT = 60  # seconds without an answer before a download counts as unreachable


def _keras_datasets_dir() -> Path:
    """Where keras.datasets caches downloads: $KERAS_HOME/datasets (default ~/.keras/datasets).

    Read at call time; Keras itself fixes its home when it is imported.
    """
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _origin_base(options: dict) -> str:
    """The base URL missing files are downloaded from: data.origin, else $KERASCE_DATASETS_ORIGIN, else
    Keras' own. A plain path names a local folder."""
    base = options.get("origin") or os.environ.get(ORIGIN_ENV) or KERAS_DATASETS_URL
    if "://" not in base:
        base = Path(base).expanduser().resolve().as_uri()
    return base if base.endswith("/") else base + "/"


def _expected_sha256(name: str) -> str:
    """The official sha256 of the file `name`, unless $KERASCE_DATASETS_SHA256 overrides it."""
    overrides = os.environ.get(SHA256_ENV)
    if not overrides:
        return OFFICIAL_SHA256[name]
    try:
        table = json.loads(overrides)
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{SHA256_ENV}: not valid JSON ({error}); expected {{file name: sha256}}"
        ) from None
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise DatasetError(f"{SHA256_ENV}: {overrides!r} is not a JSON object of {{file name: sha256}}")
    return table.get(name, OFFICIAL_SHA256[name]).lower()


def _cached_or_downloaded(dataset: str, names, subdir: str, options: dict) -> tuple[list[Path], str]:
    """The paths of the files `names` in the Keras cache, downloading the missing ones first; and a
    line saying where they came from (the URL if downloaded now, the cached path otherwise)."""
    directory = _keras_datasets_dir() / subdir
    base = _origin_base(options)
    expected = {name: _expected_sha256(name) for name in names}
    missing = [name for name in names if not (directory / name).is_file()]
    for i, name in enumerate(missing):
        _download(dataset, base + name, directory / name, expected[name], also_missing=missing[i + 1 :])
    downloaded, cached = missing, [name for name in names if name not in missing]
    origin = []
    if downloaded:
        origin.append(f"{base}{_file_list(downloaded)} (downloaded, sha256 checked)")
    if cached:
        origin.append(f"{directory / _file_list(cached)} (cached)")
    return [directory / name for name in names], "; ".join(origin)


def _file_list(names) -> str:
    return names[0] if len(names) == 1 else "{" + ",".join(names) + "}"


def _download(dataset: str, url: str, path: Path, sha256: str, also_missing=()) -> None:
    """Download `url` to `path` through a temporary file that replaces `path` only once its sha256
    matches: an interrupted, unreachable or wrong download leaves the cache as it was."""
    likewise = f" (likewise {', '.join(also_missing)}, also missing)" if also_missing else ""
    by_hand = (
        f"The file is expected at {path}: to place it by hand, download "
        f"{KERAS_DATASETS_URL}{path.name} (sha256 {OFFICIAL_SHA256[path.name]}) on a machine with "
        f"internet and copy it there{likewise}, or point data.origin or {ORIGIN_ENV} at a mirror "
        "that has it."
    )
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    created = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file = open(partial, "wb")  # closed by the with below
    except OSError as error:
        raise DatasetError(
            f"dataset {dataset!r}: cannot write into the cache {path.parent} ({error}). {by_hand}"
        ) from error
    print(f"Downloading {url} to {path}", file=sys.stderr)
    digest = hashlib.sha256()
    try:
        with file, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            size = response.headers.get("Content-Length")
            with tqdm(
                total=int(size) if size else None,
                desc=path.name,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                disable=None,  # a bar on a terminal, nothing in logs
            ) as bar:
                while chunk := response.read(1 << 20):
                    file.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != sha256:
            raise DatasetError(
                f"dataset {dataset!r}: the {path.name} downloaded from {url} has sha256 "
                f"{digest.hexdigest()}, expected {sha256}; it was not kept. {by_hand}"
            )
        os.replace(partial, path)
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise DatasetError(
            f"dataset {dataset!r}: cannot download {path.name} from {url} ({_reason(error)}). {by_hand}"
        ) from error
    finally:
        partial.unlink(missing_ok=True)
        if not path.is_file():  # failed: leave the cache as it was, without the folders made for it
            for folder in created:
                try:
                    folder.rmdir()
                except OSError:
                    break


def _reason(error: Exception) -> str:
    """Why a download failed, in a few words."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        if isinstance(error.reason, FileNotFoundError):
            return f"no such file: {error.reason.filename}"
        return f"unreachable: {error.reason}"
    if isinstance(error, TimeoutError):
        return f"no answer for {DOWNLOAD_TIMEOUT} s"
    return str(error) or type(error).__name__


def _images_to_features(train_images, train_labels, test_images, test_labels):
    """Flatten both official splits into one pool; the package re-splits it per seed."""
    images = np.concatenate([train_images, test_images]).reshape(-1, 28 * 28)
    return images.astype(np.float32) / 255.0, np.concatenate([train_labels, test_labels]).astype(np.int64)


# Both loaders read the files keras.datasets caches, in its formats, and share that cache: a file
# present there is used as it is (Keras' own loader would re-download any file but the official
# one); a missing one is downloaded once, its sha256 checked. Not through keras.utils.get_file:
# it imports TensorFlow, keeps a file whose hash does not match, and falls back to /tmp/.keras
# when the cache is not writable.
def load_mnist(options, seed):
    (path,), origin = _cached_or_downloaded("mnist", ["mnist.npz"], "", options)
    try:
        with np.load(path, allow_pickle=False) as arrays:
            x, y = _images_to_features(
                arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise DatasetError(f"{path}: cannot read ({error}); delete it to download it again") from error
    return x, y, [str(c) for c in range(10)], origin


def _read_idx(path: Path, header_bytes: int) -> np.ndarray:
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), np.uint8, offset=header_bytes)


def load_fashion_mnist(options, seed):
    paths, origin = _cached_or_downloaded("fashion_mnist", FASHION_MNIST_FILES, "fashion-mnist", options)
    arrays = []
    for path in paths:
        try:
            arrays.append(_read_idx(path, 8 if "labels" in path.name else 16))
        except (OSError, EOFError, ValueError) as error:
            raise DatasetError(f"{path}: cannot read ({error}); delete it to download it again") from error
    y_train, x_train, y_test, x_test = arrays
    if len(x_train) != 784 * len(y_train) or len(x_test) != 784 * len(y_test):
        raise DatasetError(f"{paths[0].parent}: the image and label files do not match; delete them")
    x, y = _images_to_features(x_train, y_train, x_test, y_test)
    return x, y, list(FASHION_MNIST_CLASSES), origin
