"""Body extraction on real publishers' pages (../shared/realpages), scored with the scrapinghub benchmark's metric.

The metric, as in the article-extraction-benchmark's evaluate.py: split the predicted and the annotated body
into word tokens, form 4-token shingles, and per page count shared shingles (a multiset): precision against
the prediction, recall against the annotation. Precision and recall are averaged over pages (an empty
prediction counts as recall 0 and is left out of the precision mean); F1 comes from the two means.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Optional

REALPAGES = Path(__file__).resolve().parents[3] / "shared" / "realpages"
_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


def shingles(text: str) -> Counter:
    """4-token shingles of a text, with their counts."""
    tokens = _TOKEN.findall(text or "")
    return Counter(" ".join(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1)) if tokens)


def page_scores(truth: str, predicted: str) -> tuple[Optional[float], float]:
    """(precision or None for an empty prediction, recall) of one page."""
    want, got = shingles(truth), shingles(predicted)
    shared = sum((want & got).values())
    precision = shared / sum(got.values()) if got else None
    recall = shared / sum(want.values()) if want else 1.0
    return precision, recall


def load_pages(folder: Path = REALPAGES) -> list[dict]:
    """Every page with its annotated body and its HTML bytes."""
    pages = []
    for line in (folder / "ground_truth.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            record["html"] = gzip.decompress((folder / record["file"]).read_bytes())
            pages.append(record)
    return pages


def score(pages: list[dict], extract: Callable[[dict], str]) -> dict:
    """Mean precision, recall, F1, empty results and milliseconds per page of one extractor."""
    precisions, recalls, times, empty = [], [], [], 0
    for page in pages:
        started = time.perf_counter()
        try:
            text = extract(page) or ""
        except Exception:  # an extractor that raises on a page has returned nothing for it
            text = ""
        times.append((time.perf_counter() - started) * 1000)
        precision, recall = page_scores(page["articleBody"], text)
        recalls.append(recall)
        if precision is None:
            empty += 1
        else:
            precisions.append(precision)
    p, r = statistics.mean(precisions or [0.0]), statistics.mean(recalls)
    return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "empty": empty,
            "ms": statistics.median(times), "ms_mean": statistics.mean(times)}


def prahari_body(page: dict) -> str:
    """The whole Prahari extraction (metadata included), as a crawl runs it."""
    from nlp.extract import ExtractionError, extract_page

    try:
        return extract_page(page["html"], page["url"], "text/html")["text"]
    except ExtractionError:
        return ""


def trafilatura_body(page: dict) -> str:
    """Bare trafilatura with its defaults."""
    import trafilatura

    return trafilatura.extract(page["html"].decode("utf-8", "replace"), url=page["url"]) or ""


def newsplease_body(page: dict) -> str:
    from newsplease import NewsPlease

    article = NewsPlease.from_html(page["html"].decode("utf-8", "replace"), url=page["url"])
    return article.maintext or ""


def line(name: str, s: dict) -> str:
    return (f"{name} F1 {s['f1']:.3f} (P {s['p']:.3f}, R {s['r']:.3f}), {s['empty']} empty, "
            f"{s['ms']:.1f} ms/page median ({s['ms_mean']:.1f} mean)")


def bench_realpages() -> None:
    """One line: Prahari beside bare trafilatura (and news-please when installed) on the same pages."""
    if not (REALPAGES / "ground_truth.jsonl").exists():
        print(f"bench realpages-extraction: skipped, {REALPAGES} is not here (a development set outside the "
              "repository)", flush=True)
        return
    pages = load_pages()
    prahari_body(pages[0])  # imports and first-call caches outside the timing
    trafilatura_body(pages[0])
    parts = [line("prahari", score(pages, prahari_body)), line("bare trafilatura (baseline)",
                                                                score(pages, trafilatura_body))]
    try:
        import newsplease  # noqa: F401
        parts.append(line("news-please (baseline)", score(pages, newsplease_body)))
    except ImportError:
        parts.append("news-please not installed")
    print(f"bench realpages-extraction: {len(pages)} pages; " + "; ".join(parts)
          + " (targets: prahari F1 >= 0.96, 0 empty, <= 15 ms/page median)", flush=True)


if __name__ == "__main__":
    bench_realpages()
