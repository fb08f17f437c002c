"""Importing TensorFlow and Keras without their start-up noise.

TensorFlow 2.21 writes absl/CUDA lines to the process's stderr while it loads ("All log messages
before absl::InitializeLog()", "Could not find cuda drivers"), before any log level applies; on a
CPU machine they say nothing a user can act on. They are written straight to file descriptor 2
during the import, so that is where they are dropped. After the import, TF_CPP_MIN_LOG_LEVEL (set
to 3 by the commands, kerasce/command.py, unless the user chose a level) silences the C++ "E0000" lines
(cuInit, NodeDef attributes) a normal run prints; Python warnings still reach the user, except
TensorFlow's retracing notice, which kerasce itself causes by building one model per run.
"""

import logging
import os
import sys

RETRACING_NOTICE = "triggered tf.function retracing"


class _DropRetracingNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return RETRACING_NOTICE not in record.getMessage()


def import_keras_quietly() -> None:
    """Import TensorFlow and Keras once, with the start-up lines dropped."""
    if "keras" in sys.modules:
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401  (imports its backend, TensorFlow unless KERAS_BACKEND says otherwise)
        import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    tf.get_logger().addFilter(_DropRetracingNotice())
