"""The training stage: a run config's model trained with instability measured in the train step."""
