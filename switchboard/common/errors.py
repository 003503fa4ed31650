"""Errors that reach a person: one line, naming what is at fault."""


class InputError(ValueError):
    """Bad input from a user (file, row, field, flag); the CLI exits 2 without a traceback."""


class ConfigError(InputError):
    """A configuration fault; the message names file, key, expected and found."""
