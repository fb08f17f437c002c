"""The only package that talks to MLflow: writing run records and reading runs back."""
