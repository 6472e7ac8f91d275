"""HTML snippets for page text: everything from articles is escaped, marks come from our own offsets."""

from __future__ import annotations

import html
import re
from typing import Optional

from nlp.snippets import search_spans, snippet
from prahari.highlight import fact_marks, segments, split_at
from prahari.times import shown
from prahari.model import Article, Fact

COLOURS = {"agency": "#cfe2ff", "org": "#e2d9f3", "person": "#f8d7da", "place": "#d1e7dd",
           "figure": "#ffe69c", "date": "#c3f0e0"}
STYLE = ("<style>.pr-item{margin:0 0 1.1em 0}.pr-meta{color:#666;font-size:.85em}"
         ".pr-day{font-size:1.5rem;font-weight:600;margin:1.2em 0 .6em 0}.pr-story{margin:-.6em 0 1.1em 1em}"
         ".pr-fact{margin:.2em 0 .2em 1em;font-size:.95em}.pr-text{line-height:1.7;white-space:pre-wrap}"
         "mark{padding:0 .15em;border-radius:.2em}mark.pr-hit{background:#ffd43b;font-weight:600}"
         ".pr-snippet{color:#333}.pr-note{color:#8a5a00;font-size:.9em;margin:.15em 0}"
         # On a phone: the first fact only, in at most three lines (the article view has them all).
         "@media (max-width:640px){.pr-item{margin-bottom:.5em}.pr-fact{margin-left:.3em;display:-webkit-box;"
         "-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden;font-size:.88em}.pr-fact.pr-more{display:none}"
         "[data-testid=stMainBlockContainer] [data-testid=stVerticalBlock]{gap:.45rem}}"
         "</style>")


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def literal(text: str) -> str:
    """User or page text for st.markdown/st.write/st.warning: shown as typed, never as links, images or HTML."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def mark(text: str, kind: str | None) -> str:
    safe = html.escape(text)
    if not kind:
        return safe
    return f'<mark class="pr-{kind}" title="{kind}" style="background:{COLOURS.get(kind, "#eee")}">{safe}</mark>'


def fact_html(fact: Fact) -> str:
    """A fact sentence with its agencies, people, places, figures and dates highlighted."""
    return "".join(mark(text, kind) for text, kind in segments(fact.sentence, fact_marks(fact)))


def article_text_html(article: Article) -> str:
    """The full body with every mention marked by its exact offsets (overlaps: the longer span wins)."""
    spans = [(m.start, m.end, e.type.lower()) for e in article.entities for m in e.mentions if m.field == "text"]
    spans += [(f.start, f.end, "figure") for f in article.figures if f.field == "text"]
    spans += [(d.start, d.end, "date") for d in article.dates if d.field == "text"]
    pieces = "".join(mark(text, kind) for text, kind in split_at(article.text or "", spans))
    return f'<div class="pr-text">{pieces}</div>'


def snippet_html(text: str, matches: tuple) -> str:
    """The part of the text around the first search match, with every matched word marked."""
    pieces = snippet(text, search_spans(text, *matches))
    return "".join(f'<mark class="pr-hit">{html.escape(p)}</mark>' if hit else html.escape(p) for p, hit in pieces)


def note_html(note: Optional[dict]) -> str:
    """An analyst's star, tags and note, as one quiet line ("" when there are none)."""
    if not note:
        return ""
    parts = (["★ starred"] if note.get("starred") else []) + [f"#{html.escape(t)}" for t in note.get("tags") or []]
    text = f" — {html.escape(note['note'])}" if note.get("note") else ""
    return f'<div class="pr-note">{" ".join(parts)}{text}</div>'


def item_html(article: Article, facts: list[Fact], copies: int,
              matches: Optional[tuple] = None, note: Optional[dict] = None) -> str:
    """One timeline item: headline linked to the article view, the original, source, language, time (IST), story
    size, then the search snippet (matches marked) or the key facts."""
    sources = f" · <b>{copies} sources</b>" if copies > 1 else ""
    when = html.escape(shown(article.published) or "time unknown")
    title = html.escape(article.title)
    if matches:
        title = snippet_html(article.title, matches) if search_spans(article.title, *matches) else title
        found = snippet_html(article.text or "", matches)
        below = f'<div class="pr-fact pr-snippet">{found}</div>' if found else ""
    else:
        below = "".join(f'<div class="pr-fact{" pr-more" if i else ""}">• {fact_html(f)}</div>'
                        for i, f in enumerate(facts[:3]))
    article_view = f"./article?article={html.escape(article.id)}"
    return (f'<div class="pr-item"><a class="pr-open" href="{article_view}" target="_self">{title}</a>'
            f'<div class="pr-meta">{html.escape(article.source)} · '
            f"{html.escape(LANGUAGE_LABELS.get(article.language, article.language))} · {when}{sources} · "
            f'<a class="pr-open" href="{article_view}" target="_self">Article view</a> · '
            f'<a href="{html.escape(article.url)}" target="_blank" rel="noopener noreferrer">original ↗</a></div>'
            f"{note_html(note)}{below}</div>")


def member_html(member: dict) -> str:
    """One copy of a story: headline linked to the original, source and time."""
    return (f'<a href="{html.escape(member["url"])}" target="_blank" rel="noopener noreferrer">'
            f'{html.escape(member["title"] or "")}</a> · {html.escape(member["source"] or "")} · '
            f'{html.escape(shown(member["published"]))}')


def list_html(articles: list[Article], facts: dict[str, list[Fact]], stories: dict[str, list[dict]],
              matches: Optional[tuple] = None, notes: Optional[dict] = None) -> str:
    """A page of the list as one block: a heading for each day, and each story once, with its other sources
    folded under it. One element rather than one per report: each Streamlit element costs the browser a
    component, its styles and a size watcher on the first load."""
    notes = notes or {}
    parts, shown_stories, current_day = [], set(), None
    for article in articles:
        story = article.story_id or article.id
        if story in shown_stories:
            continue  # a syndicated copy: folded under the first copy of its story on this page
        shown_stories.add(story)
        day = article.filed_day() or "undated"
        if day != current_day:
            parts.append(f'<h3 class="pr-day">{html.escape(day)}</h3>')
            current_day = day
        members = stories.get(story, [])
        parts.append(item_html(article, facts.get(article.id, []), len(members), matches, notes.get(article.id)))
        if len(members) > 1:
            parts.append(f'<details class="pr-story"><summary>{len(members)} sources carry this story</summary>'
                         + "<br>".join(member_html(m) for m in members) + "</details>")
    return "".join(parts)


def legend_html() -> str:
    return " ".join(mark(kind, kind) for kind in COLOURS)


STATUS_COLOURS = {"disputed": "red", "corroborated": "green", "single-source": "gray"}
STANCE_LABELS = {"asserted": "asserts", "attributed": "attributes (sources say)", "denied": "denies"}
LANGUAGE_LABELS = {"hi": "हिन्दी", "en": "English"}


def source_html(fact: dict) -> str:
    """One source behind a claim: outlet, language, time, stance, the sentence, the article view and the original."""
    article = f"./article?article={html.escape(fact['article_id'])}"
    return (f'<div class="pr-source" lang="{html.escape(fact["language"])}">'
            f'<a class="pr-open" href="{article}" target="_self">{html.escape(fact["source"])}</a> · '
            f'{LANGUAGE_LABELS.get(fact["language"], html.escape(fact["language"]))} · '
            f'{html.escape(shown(fact.get("published")))} · '
            f'<i>{html.escape(STANCE_LABELS.get(fact["stance"], fact["stance"]))}</i>'
            f'<div class="pr-fact">“{html.escape(fact["sentence"])}”</div>'
            f'<div class="pr-meta"><a href="{html.escape(fact["url"])}" target="_blank" rel="noopener noreferrer">'
            f"original ↗</a></div></div>")


SOURCES_SHOWN = 25  # per column; the export has every one


def sources_html(facts: list[dict], empty: str, total: Optional[int] = None) -> str:
    """Sources in a column (the first SOURCES_SHOWN of `total`), or a quiet note when there are none."""
    if not facts:
        return f'<div class="pr-meta">{html.escape(empty)}</div>'
    more = (len(facts) if total is None else total) - min(len(facts), SOURCES_SHOWN)
    note = f'<div class="pr-meta">… and {more} more (export the claims for every one)</div>' if more > 0 else ""
    return "".join(source_html(f) for f in facts[:SOURCES_SHOWN]) + note


def figure_summary_html(rows: list[dict]) -> str:
    """Each unit's figures as they read, with how many outlets gave each and the first day one did."""
    by_unit: dict[str, dict[str, dict]] = {}
    for row in rows:
        seen = by_unit.setdefault(row.get("unit") or row["kind"], {}).setdefault(
            row["figure"], {"outlets": set(), "first": None})
        seen["outlets"].add(row["source"])
        day = (row.get("published") or "")[:10] or None
        seen["first"] = min(filter(None, (seen["first"], day)), default=None)
    lines = []
    for unit in sorted(by_unit, key=lambda u: -sum(len(v["outlets"]) for v in by_unit[u].values())):
        items = sorted(by_unit[unit].items(), key=lambda item: (-len(item[1]["outlets"]), item[1]["first"] or ""))
        shown = " · ".join(f"<b>{html.escape(text)}</b> <span class='pr-meta'>({len(v['outlets'])} outlet"
                           f"{'s' if len(v['outlets']) != 1 else ''}, from {html.escape(v['first'] or '?')})</span>"
                           for text, v in items[:8])
        label = {"INR": "money (₹)", "TB": "data (TB)"}.get(unit, unit)
        lines.append(f"<div class='pr-fact'><i>{html.escape(label)}</i>: {shown}</div>")
    return "<div class='pr-figures'>" + "".join(lines) + "</div>"
