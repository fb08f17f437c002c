"""The package's own error types: every bad input surfaces as one of these, before any run starts."""

import difflib


class KerasceError(Exception):
    """Base class: a problem the user can fix (bad config, missing file, unknown name)."""


class ConfigError(KerasceError):
    """The config names an unknown key, has a wrong type, or an impossible value."""


class DatasetError(KerasceError):
    """A dataset cannot be loaded: missing file, bad column, too few classes."""


def choices_message(field: str, value, valid) -> str:
    """One sentence naming the field, the bad value and the valid choices, with the closest
    choice when the value looks like a typo of one ("'mnst' is not valid; did you mean 'mnist'?")."""
    valid = [str(choice) for choice in valid]
    close = difflib.get_close_matches(str(value), valid, n=1, cutoff=0.6)
    choices = f"choose one of: {', '.join(valid)}"
    if close:
        return f"{field}: {value!r} is not valid; did you mean {close[0]!r}? Or {choices}"
    return f"{field}: {value!r} is not valid; {choices}"
