"""The application: CLI commands and the services they call (over the core, nlp, index and crawlers)."""
