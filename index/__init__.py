"""Storage and search: one Store interface, one module per engine."""
