"""Scrapy settings for Prahari's crawlers (polite, bounded, http(s) only)."""

BOT_NAME = "prahari"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"
USER_AGENT = "Prahari/0.1 (+news research; bilingual incident tracking)"

ROBOTSTXT_OBEY = True
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
# The Scrapy log is off: every page not stored is in the summary with its reason (prahari -v turns the log on).
LOG_ENABLED = False
LOG_LEVEL = "INFO"
# Scrapy re-reads a callback's source for each response it cannot find in a small weak cache (bound
# methods are new objects every time), to warn about generators that return a value. Ruff's B901 checks our
# spiders for that once, when linting, instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 16
# Scrapy starts this many tasks for every response's output; an article page yields one item, and
# items run in parallel across responses anyway (the worker pool does the heavy part).
CONCURRENT_ITEMS = 4
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 20
AUTOTHROTTLE_TARGET_CONCURRENCY = 8.0
DOWNLOAD_TIMEOUT = 20
REDIRECT_MAX_TIMES = 5

# Pages above the cap are cancelled and counted, never parsed.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024

RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
PRAHARI_RETRY_BACKOFF_BASE = 0.5  # seconds; doubles on each retry
PRAHARI_RETRY_BACKOFF_MAX = 8.0

# Only http(s): no file://, ftp://, s3:// or data: downloads.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None, "data": None}

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "crawlers.middlewares.PrivateAddressMiddleware": 40,
    "crawlers.middlewares.StoredPagesMiddleware": 50,
    "crawlers.middlewares.ConditionalListingsMiddleware": 60,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.ExtractPipeline": 100,
    "crawlers.pipelines.RelevancePipeline": 200,
    "crawlers.pipelines.StorePipeline": 900,
}

# Read by crawlers.runner when it builds the crawl context (the store and incident come from the CLI).
PRAHARI_PROGRESS = True  # one progress line on stderr per stored batch
PRAHARI_REFRESH = False  # True: fetch stored pages and unchanged listings again
PRAHARI_BATCH_SIZE = 50
PRAHARI_WORKERS = -1  # processes for extraction and NLP; -1 = one per core beyond the first, 0 = inline
PRAHARI_ARCHIVE_CONCURRENCY = 2  # requests in flight per web archive (Common Crawl, Wayback): public services

# Scrapy's default reactor, installed in the crawl child by crawlers.runner.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
