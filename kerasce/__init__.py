"""kerasce: how should softmax, log-softmax, sigmoid and cross-entropy be wired, and what does
each choice do to training? Reproducible experiments that answer it with evidence."""

import os

# The loss-path facts this package measures are TensorFlow-backend facts.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's C++ start-up notices drown the output users came for.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
