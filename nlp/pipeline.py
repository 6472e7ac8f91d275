"""The bilingual NLP pipeline: spaCy components for entities, dates and figures, then facts."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from functools import lru_cache
from typing import Optional

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import registry

from nlp.dates import find_dates
from nlp.entities import find_known, find_unknown_orgs, load_aliases
from nlp.figures import find_figures
from nlp.sentences import split_sentences
from prahari.model import Article, DateMention, Entity, Fact, Figure, Mention

for _name in ("prahari_field", "prahari_published", "prahari_text", "prahari_entities", "prahari_dates",
              "prahari_figures"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

# Verbs that make an agency's sentence a fact ("NIA registered…", "पुलिस ने दर्ज किया…").
ACTION = re.compile(r"\b(said|says|told|registered|filed|wrote|asked|chaired|met|suspended|restored|arranged|sought|"
                    r"joined|traced|probing|investigating|reviewed|issued|demanded|denied|audit)\b|"
                    r"(कहा|बताया|दर्ज|लिखा|मांग|मांगी|मांगे|बैठक|निलंबित|बहाल|जांच|जारी|शामिल|ऑडिट|समीक्षा)", re.I)


def _text(doc: Doc) -> str:
    """The field's text: kept as given (our pipelines' docs carry no tokens; a doc made elsewhere has its own)."""
    return doc._.prahari_text if doc._.prahari_text is not None else doc.text


@Language.factory("prahari_entities")
def make_entity_finder(nlp: Language, name: str):
    """Known entities from nlp/data/entities.yaml (loaded once), then unknown organisations by pattern."""
    known, *_ = load_aliases()

    def find(doc: Doc) -> Doc:
        text, field = _text(doc), doc._.prahari_field
        found = [(entity_id, s, e) for entity_id, s, e in find_known(text)]
        entities: dict[str, Entity] = {}
        for entity_id, start, end in found:
            k = known[entity_id]
            entities.setdefault(entity_id, Entity(k.id, k.type, k.name, k.name_hi)).mentions.append(
                Mention(field, text[start:end], start, end))
        for entity_id, org_name, start, end in find_unknown_orgs(text, [(s, e) for _i, s, e in found]):
            entities.setdefault(entity_id, Entity(entity_id, "ORG", org_name, None)).mentions.append(
                Mention(field, text[start:end], start, end))
        doc._.prahari_entities = list(entities.values())
        return doc

    return find


@Language.factory("prahari_dates")
def make_date_finder(nlp: Language, name: str):
    """Absolute, weekday and relative dates, resolved against the publication date."""

    def find(doc: Doc) -> Doc:
        doc._.prahari_dates = find_dates(_text(doc), doc._.prahari_field, doc._.prahari_published)
        return doc

    return find


@Language.factory("prahari_figures")
def make_figure_finder(nlp: Language, name: str):
    """Money, counts, data sizes, durations and percentages (date spans are not read as numbers)."""

    def find(doc: Doc) -> Doc:
        dates = [(d.start, d.end) for d in doc._.prahari_dates or []]
        doc._.prahari_figures = find_figures(_text(doc), doc._.prahari_field, dates)
        return doc

    return find


@registry.tokenizers("prahari_no_tokens.v1")
def make_no_tokens():
    """A tokenizer that makes no tokens: every component reads the field's text, none reads spaCy's tokens
    (tokenising took 14 % of the NLP time, and building a language's rules 0.1 s in every process)."""

    def create(nlp: Language):
        return lambda text: Doc(nlp.vocab)

    return create


@lru_cache(maxsize=2)
def pipeline(lang: str) -> Language:
    """spacy.blank(lang) with our components; built once per language."""
    nlp = spacy.blank(lang, config={"nlp": {"tokenizer": {"@tokenizers": "prahari_no_tokens.v1"}}})
    nlp.max_length = 50_000_000  # a huge field must not raise: with no tokens it costs nothing to make
    for component in ("prahari_entities", "prahari_dates", "prahari_figures"):
        nlp.add_pipe(component)
    return nlp


def _published_date(published: Optional[str]) -> Optional[date]:
    if not published:
        return None
    try:
        return datetime.fromisoformat(published).date()
    except ValueError:
        return None


def analyse_field(text: str, field: str, lang: str, published: Optional[date]) -> Doc:
    """Run the pipeline over one field (title or text)."""
    nlp = pipeline(lang if lang in ("hi", "en") else "en")
    doc = nlp.make_doc(text)
    doc._.prahari_field, doc._.prahari_published, doc._.prahari_text = field, published, text
    for _name, component in nlp.pipeline:
        doc = component(doc)
    return doc


def annotate_article(article: Article) -> None:
    """Fill entities, figures, dates and facts of an article."""
    published = _published_date(article.published)
    entities: dict[str, Entity] = {}
    figures: list[Figure] = []
    dates: list[DateMention] = []
    for field, text in (("title", article.title or ""), ("text", article.text or "")):
        doc = analyse_field(text, field, article.language, published)
        for entity in doc._.prahari_entities:
            merged = entities.setdefault(entity.id, Entity(entity.id, entity.type, entity.name, entity.name_hi))
            merged.mentions.extend(entity.mentions)
        figures.extend(doc._.prahari_figures)
        dates.extend(doc._.prahari_dates)
    article.entities, article.figures, article.dates = list(entities.values()), figures, dates
    article.facts = build_facts(article)


def build_facts(article: Article) -> list[Fact]:
    """One fact per body sentence holding a figure, a date, or an agency with an action verb."""
    facts = []
    for index, (start, end) in enumerate(split_sentences(article.text or "")):
        inside = lambda s, e: start <= s and e <= end  # noqa: E731
        figures = [f for f in article.figures if f.field == "text" and inside(f.start, f.end)]
        dates = [d for d in article.dates if d.field == "text" and inside(d.start, d.end)]
        entities = []
        for entity in article.entities:
            mentions = [m for m in entity.mentions if m.field == "text" and inside(m.start, m.end)]
            if mentions:
                entities.append(Entity(entity.id, entity.type, entity.name, entity.name_hi, mentions))
        sentence = article.text[start:end]
        agency_acts = any(e.type == "AGENCY" for e in entities) and ACTION.search(sentence)
        if not (figures or dates or agency_acts):
            continue
        fact_id = hashlib.sha1(f"{article.id}:{index}:{sentence}".encode("utf-8")).hexdigest()[:16]
        facts.append(Fact(
            id=fact_id, article_id=article.id, url=article.url, source=article.source, language=article.language,
            sentence=sentence, event_date=dates[0].date if dates else (article.published or "")[:10] or None,
            published=article.published, incident=article.incident, entities=entities, figures=figures, dates=dates,
            first_seen=article.first_seen))
    return facts
