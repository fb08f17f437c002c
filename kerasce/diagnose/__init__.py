"""The diagnosis stage: a user's saved model audited for its head, loss path and dead zone."""
