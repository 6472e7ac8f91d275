"""Cross-lingual linking measured on labelled pairs of the sample corpus: precision and recall."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from nlp.crosslingual import same_event, same_story, signature
from nlp.pipeline import annotate_article
from prahari.app.sample.site import load_articles
from prahari.model import Article

PAIRS = Path(__file__).resolve().parents[1] / "fixtures" / "crosslingual_pairs.yaml"


def sample_signatures() -> dict:
    """Every sample article through the NLP pipeline, as a signature, by slug."""
    out = {}
    for item in load_articles():
        article = Article(id=item["slug"], url=f"http://sample/{item['slug']}", canonical_url=item["slug"],
                          source=item["publisher"], title=item["title"], language=item["lang"],
                          text=item["body"].strip(), published=item["published"], author=item.get("author"))
        annotate_article(article)
        out[item["slug"]] = signature(article.id, article.language, article.source, article.published,
                                      article.author, article.facts)
    return out


def _score(predicted: set, truth: set) -> tuple[float, float]:
    hits = len(predicted & truth)
    return (hits / len(predicted) if predicted else 1.0), (hits / len(truth) if truth else 1.0)


def measure() -> dict:
    """Precision and recall of same_event and same_story over every English x Hindi pair."""
    labels = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))
    signatures = sample_signatures()
    unsure = {tuple(p) for p in labels["unsure"]}
    english = [s for s in signatures.values() if s.language == "en"]
    hindi = [s for s in signatures.values() if s.language == "hi"]
    pairs = [(e, h) for e in english for h in hindi if (e.article_id, h.article_id) not in unsure]
    started = time.perf_counter()
    events = {(e.article_id, h.article_id) for e, h in pairs if same_event(e, h)}
    stories = {(e.article_id, h.article_id) for e, h in pairs if same_story(e, h)}
    seconds = time.perf_counter() - started
    event_p, event_r = _score(events, {tuple(p) for p in labels["same_event"]})
    story_p, story_r = _score(stories, {tuple(p) for p in labels["same_story"]})
    return {"pairs": len(pairs), "event_precision": event_p, "event_recall": event_r, "story_precision": story_p,
            "story_recall": story_r, "pairs_per_second": len(pairs) / seconds if seconds else 0.0,
            "false_events": sorted(events - {tuple(p) for p in labels["same_event"]}),
            "missed_events": sorted({tuple(p) for p in labels["same_event"]} - events)}


if __name__ == "__main__":
    print(measure())
