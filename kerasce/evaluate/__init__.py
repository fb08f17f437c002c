"""The evaluation stage: metrics from labels and probabilities, and the per-run figures."""
