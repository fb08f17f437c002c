"""The comparison stage: runs read back from MLflow into pandas tables, figures and the report."""
