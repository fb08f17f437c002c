"""Importing TensorFlow and Keras without their start-up noise.

TensorFlow 2.21 writes absl/CUDA lines to the process's stderr while it loads ("All log messages
before absl::InitializeLog()", "Could not find cuda drivers"), before any log level applies, and
again when it first looks for devices ("failed call to cuInit" on a machine with a CUDA driver
but no usable GPU, whatever TF_CPP_MIN_LOG_LEVEL a user's environment sets); on a CPU machine
they say nothing a user can act on. They are written straight to file descriptor 2, so the
import and the device search are made while it points at /dev/null. Later C++ lines (NodeDef
attributes) follow TF_CPP_MIN_LOG_LEVEL, which the commands set to 3 unless the user chose a
level (kerasce/command.py); Python warnings still reach the user, except TensorFlow's retracing
notice, which kerasce itself causes by building one model per run.
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

        tf.config.list_physical_devices()  # the CUDA driver is probed once, here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    tf.get_logger().addFilter(_DropRetracingNotice())
