"""The package's own error types: every bad input surfaces as one of these, before any run starts."""


class KerasceError(Exception):
    """Base class: a problem the user can fix (bad config, missing file, unknown name)."""


class ConfigError(KerasceError):
    """The config names an unknown key, has a wrong type, or an impossible value."""


class DatasetError(KerasceError):
    """A dataset cannot be loaded: missing file, bad column, too few classes."""


def choices_message(field: str, value, valid) -> str:
    """One sentence naming the field, the bad value and the valid choices."""
    return f"{field}: {value!r} is not valid; choose one of: {', '.join(map(str, valid))}"
