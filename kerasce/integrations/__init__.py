"""kerasce in the user's own training: the Keras callback that logs a fit to MLflow."""
