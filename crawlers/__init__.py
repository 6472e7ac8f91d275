"""The Scrapy project: spiders fetch and parse; pipelines extract, score, analyse and store."""
