"""Errors a user can act on (the CLI prints them as one line and exits 2), and the one a single page raises."""


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


class ExtractionError(ValueError):
    """The page holds no article we can read (empty, too large, not HTML): that page is dropped with the reason.

    Defined here, not in nlp.extract, so the crawl process can catch it without importing trafilatura (0.13 s of its
    start-up): only the NLP workers extract.
    """
