"""Errors a user can act on; the CLI prints them as one line and exits 2."""


class PrahariError(Exception):
    """A problem with the user's input, configuration or environment."""


class IncidentFileError(PrahariError):
    """An incident file is missing, unreadable or invalid."""


class StoreError(PrahariError):
    """The store cannot be opened, is locked, or is down."""


class QuerySyntaxError(PrahariError):
    """A search query could not be parsed."""


class NoStore(StoreError):
    """A read command named a store that does not exist (nothing is created for it)."""
