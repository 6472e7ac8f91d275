"""What spiders yield: the raw page (model.RawPage) and, once extracted, its article."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from prahari.model import Article, RawPage


@dataclass
class PageItem:
    """A fetched page moving through the pipelines."""

    page: RawPage
    article: Optional[Article] = None
