"""kerasce: how should softmax, log-softmax, sigmoid and cross-entropy be wired, and what does
each choice do to training? Reproducible experiments that answer it with evidence.

The Python API lives in `kerasce.api` (`load_grid`, `run_grid` and `write_report` are also
reachable as `kerasce.<name>`; `kerasce.compare` is the command's module, so comparing is
`kerasce.api.compare`, and auditing a model `kerasce.api.audit`). For your own training:
`kerasce.instrument(model)` and the callback `kerasce.MlflowLogger`. All are imported on first
use, so `import kerasce.config` stays free of TensorFlow. Importing kerasce changes nothing in
your process: no environment variable, no library setting (the commands set what they need in
their own process).
"""

__version__ = "0.1.0"
_API = ("load_grid", "run_grid", "write_report", "Grid")


def __getattr__(name):
    if name in _API:
        from kerasce import api

        return getattr(api, name)
    if name == "instrument":
        from kerasce.training.user_model import instrument

        return instrument
    if name == "MlflowLogger":
        from kerasce.integrations.mlflow_logger import MlflowLogger

        return MlflowLogger
    raise AttributeError(f"module 'kerasce' has no attribute {name!r}")
