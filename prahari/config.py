"""Runtime configuration: where the store is, from --store, PRAHARI_STORE, or the default."""

from __future__ import annotations

import os
from typing import Optional

DEFAULT_STORE = "sqlite:///data/prahari.db"


def store_url(cli_value: Optional[str]) -> str:
    """The store URL: --store, then $PRAHARI_STORE, then sqlite:///data/prahari.db."""
    return cli_value or os.environ.get("PRAHARI_STORE") or DEFAULT_STORE
