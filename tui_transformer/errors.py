"""Errors whose message is written for the user.

The core raises these when the *input* is wrong (a bad flag value, a corrupt checkpoint, no
network). The CLI prints the message on one line and exits non-zero; the TUI shows it in a
notification. Anything else that escapes is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Something the user can fix; the message says what and how."""


class ConfigError(UserError, ValueError):
    """A value out of range or of the wrong kind. Also a ``ValueError``, so plain callers can catch it."""


class Unverified(UserWarning):
    """A file loaded with nothing to check it against (no recorded digest): it may be damaged unnoticed.

    Raised with :func:`warnings.warn`; the CLI prints it as one ``warning:`` line.
    """
