"""MNIST and Fashion-MNIST download on first use: the real download path, offline.

The origin is a folder of small stand-in files under their Keras names, reached through a
file:// URL (and once through a local HTTP server); KERAS_HOME is an empty folder. The stand-in
files' hashes replace the official ones, as a mirror that re-packs the files would.
"""

import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from kerasce.datasets import (
    FASHION_MNIST_FILES,
    KERAS_DATASETS_URL,
    ORIGIN_ENV,
    SHA256_ENV,
    keras_cache,
    load_dataset,
)
from kerasce.errors import DatasetError

ROOT = Path(__file__).resolve().parents[2]
FILES = {"mnist": ("", ("mnist.npz",)), "fashion_mnist": ("fashion-mnist", FASHION_MNIST_FILES)}


def standin_images(n, seed):
    """n 28x28 uint8 images, labels cycling through the ten classes, each class a brighter band."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n, dtype=np.uint8) % 10
    images = rng.integers(0, 64, size=(n, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i, 2 * label : 2 * label + 6] += 150
    return images, labels


def idx_bytes(array) -> bytes:
    """An array in the idx format of the MNIST files, gzipped: magic, sizes, then the bytes."""
    magic = 0x0801 if array.ndim == 1 else 0x0803
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def write_standins(folder: Path, n_train=200, n_test=100) -> dict:
    """The stand-in files of both datasets in `folder`, flat as on Keras' server; their sha256."""
    (x_train, y_train), (x_test, y_test) = standin_images(n_train, 0), standin_images(n_test, 1)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    contents = {"mnist.npz": buffer.getvalue()}
    for name, array in zip(FASHION_MNIST_FILES, (y_train, x_train, y_test, x_test), strict=True):
        contents[name] = idx_bytes(array)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    return {name: hashlib.sha256(content).hexdigest() for name, content in contents.items()}


def cache_files(keras_home: Path) -> list:
    return sorted(str(p.relative_to(keras_home)) for p in keras_home.rglob("*") if p.is_file())


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A file:// origin of stand-in files whose hashes are the expected ones; an empty KERAS_HOME."""
    folder = tmp_path / "mirror"
    hashes = write_standins(folder)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv(ORIGIN_ENV, folder.as_uri())
    monkeypatch.delenv(SHA256_ENV, raising=False)
    monkeypatch.setattr(keras_cache, "OFFICIAL_SHA256", {**keras_cache.OFFICIAL_SHA256, **hashes})
    return folder


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_downloads_once_then_reads_the_cache(mirror, tmp_path, name, capsys):
    subdir, files = FILES[name]
    first = load_dataset({"dataset": name}, seed=0)
    assert (first.n_features, first.n_classes, sum(first.sizes().values())) == (784, 10, 300)
    assert first.origin.startswith(mirror.as_uri()) and first.origin.endswith("(downloaded, sha256 checked)")
    assert f"Downloading {mirror.as_uri()}/{files[0]}" in capsys.readouterr().err
    assert cache_files(tmp_path / "keras") == sorted(str(Path("datasets", subdir, f)) for f in files)
    for file in files:  # what was cached is what the origin holds, and nothing else stayed behind
        assert (tmp_path / "keras" / "datasets" / subdir / file).read_bytes() == (mirror / file).read_bytes()

    for file in files:  # a second load must not fetch again: the origin is gone
        (mirror / file).unlink()
    again = load_dataset({"dataset": name}, seed=0)
    assert again.fingerprint == first.fingerprint
    assert again.origin.endswith("(cached)") and str(tmp_path / "keras") in again.origin
    assert "Downloading" not in capsys.readouterr().err


def test_the_data_option_overrides_the_environment_and_takes_a_plain_folder(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv(ORIGIN_ENV, (tmp_path / "nowhere").as_uri())
    data = load_dataset({"dataset": "mnist", "origin": str(mirror)}, seed=0)
    assert data.origin == f"{mirror.as_uri()}/mnist.npz (downloaded, sha256 checked)"


def test_a_hash_mismatch_names_both_hashes_and_keeps_nothing(mirror, tmp_path, monkeypatch):
    expected = "0" * 64
    monkeypatch.setitem(keras_cache.OFFICIAL_SHA256, "mnist.npz", expected)
    actual = hashlib.sha256((mirror / "mnist.npz").read_bytes()).hexdigest()
    with pytest.raises(DatasetError) as error:
        load_dataset({"dataset": "mnist"}, seed=0)
    message = str(error.value)
    assert f"has sha256 {actual}, expected {expected}" in message
    assert f"{mirror.as_uri()}/mnist.npz" in message and "not kept" in message
    assert not (tmp_path / "keras").exists()  # not even the folders made for the download


def test_a_missing_origin_file_says_where_the_file_goes_and_where_to_get_it(mirror, tmp_path):
    content = (mirror / "t10k-images-idx3-ubyte.gz").read_bytes()
    (mirror / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetError) as error:
        load_dataset({"dataset": "fashion_mnist"}, seed=0)
    message = str(error.value)
    target = tmp_path / "keras" / "datasets" / "fashion-mnist" / "t10k-images-idx3-ubyte.gz"
    assert f"cannot download t10k-images-idx3-ubyte.gz from {mirror.as_uri()}/" in message
    assert "no such file" in message
    assert f"expected at {target}" in message
    assert f"download {KERAS_DATASETS_URL}t10k-images-idx3-ubyte.gz" in message
    assert ORIGIN_ENV in message and "data.origin" in message
    # the files before it were downloaded and verified; they stay for next time, the missing one does not
    assert not target.exists() and len(cache_files(tmp_path / "keras")) == 3
    (mirror / "t10k-images-idx3-ubyte.gz").write_bytes(content)  # back: only the missing file is fetched
    origin = load_dataset({"dataset": "fashion_mnist"}, seed=0).origin
    cached = "{train-labels-idx1-ubyte.gz,train-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz}"
    assert origin == (
        f"{mirror.as_uri()}/t10k-images-idx3-ubyte.gz (downloaded, sha256 checked); "
        f"{target.parent}/{cached} (cached)"
    )


def test_an_unreachable_origin_is_one_clear_error(mirror, tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(ORIGIN_ENV, f"http://127.0.0.1:{port}/")
    with pytest.raises(DatasetError, match=rf"127\.0\.0\.1:{port}/mnist\.npz \(unreachable: .*expected at"):
        load_dataset({"dataset": "mnist"}, seed=0)
    assert not (tmp_path / "keras").exists()


@pytest.fixture
def http_mirror(mirror):
    """The same stand-in files served over HTTP on localhost."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_downloads_over_http_and_reports_http_errors(http_mirror, mirror, tmp_path, monkeypatch):
    monkeypatch.setenv(ORIGIN_ENV, http_mirror)
    assert load_dataset({"dataset": "mnist"}, seed=0).origin.startswith(f"{http_mirror}mnist.npz (downloaded")
    (mirror / "train-labels-idx1-ubyte.gz").unlink()
    others = "train-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz"
    with pytest.raises(DatasetError, match=f"train-labels-idx1-ubyte.gz.*HTTP 404.*likewise {others}, also"):
        load_dataset({"dataset": "fashion_mnist"}, seed=0)
    assert cache_files(tmp_path / "keras") == ["datasets/mnist.npz"]


def test_the_sha256_environment_variable_accepts_a_mirror_s_files(mirror, monkeypatch):
    hashes = {name: hashlib.sha256((mirror / name).read_bytes()).hexdigest() for name in FASHION_MNIST_FILES}
    monkeypatch.setattr(
        keras_cache, "OFFICIAL_SHA256", {name: "0" * 64 for name in keras_cache.OFFICIAL_SHA256}
    )
    monkeypatch.setenv(SHA256_ENV, json.dumps(hashes))
    assert "downloaded" in load_dataset({"dataset": "fashion_mnist"}, seed=0).origin
    monkeypatch.setenv(SHA256_ENV, "{not json")
    with pytest.raises(DatasetError, match=SHA256_ENV):
        load_dataset({"dataset": "mnist"}, seed=0)


def test_a_broken_cached_file_is_named(mirror, tmp_path):
    cache = tmp_path / "keras" / "datasets"
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match=f"{cache / 'mnist.npz'}: cannot read.*delete it"):
        load_dataset({"dataset": "mnist"}, seed=0)


@pytest.mark.slow
def test_the_mnist_intuition_experiment_runs_on_stand_in_files(tmp_path):
    """experiments/mnist_intuition.toml through the real CLI, its data downloaded from stand-in files."""
    import mlflow

    hashes = write_standins(tmp_path / "mirror")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    env = {
        **os.environ,
        "KERAS_HOME": str(tmp_path / "keras"),
        ORIGIN_ENV: (tmp_path / "mirror").as_uri(),
        SHA256_ENV: json.dumps(hashes),
    }
    command = [sys.executable, "-m", "kerasce.experiment", "--config", "experiments/mnist_intuition.toml"]
    command += ["--tracking-uri", uri, "--quiet", "--set", "train.epochs=1", "--set", "grid.seed=[0]"]
    command += ["--set", "data.max_samples=200", "--set", "train.figures=false", "--jobs", "1"]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "Downloading" in finished.stderr
    client = mlflow.tracking.MlflowClient(uri)
    experiments = client.search_experiments()
    runs = client.search_runs([e.experiment_id for e in experiments])
    cells = [run for run in runs if run.data.tags.get("kerasce.kind") == "cell"]
    assert len(cells) == 3 and {run.info.status for run in cells} == {"FINISHED"}
