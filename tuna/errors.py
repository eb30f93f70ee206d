"""The one exception a user sees: a one-line message, no traceback."""

import click


class TunaError(click.ClickException):
    """Bad input, bad config or an unusable provider: say what and where, then exit 1."""

    exit_code = 1
