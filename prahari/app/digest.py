"""What is new since a moment: new articles grouped by story, new facts and new entities, as md, html or Atom."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import datetime, timezone
import re
from xml.sax.saxutils import escape as _xml_escape

from index.ledger import read_claims
from index.query import Filters
from index.store import Store
from index.workspace import note_rows
from prahari.highlight import fact_marks, segments
from prahari.model import Article, Fact
from prahari.times import shown

ATOM_NS = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 does not allow at all, even escaped: dropped so the feed stays well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_escape(text: str, entities: dict | None = None) -> str:
    """Escape text for XML, without the control characters XML 1.0 forbids."""
    return _xml_escape(_NOT_XML.sub("", text), entities or {})


def build_digest(store: Store, since: str, filters: Filters) -> dict:
    """Everything first seen at or after `since` (an ISO-8601 instant), within the filters."""
    scoped = replace(filters, first_seen_since=since)
    stories: dict[str, list[Article]] = {}
    for article in store.iter_articles(scoped):
        stories.setdefault(article.story_id or article.id, []).append(article)
    facts = list(store.iter_facts(scoped))
    claims = read_claims(store, filters, facts_per_side=0)
    new_claims = [c for c in claims if (c.get("built_first") or "") >= since]
    disputed = [c for c in claims if c not in new_claims and (c.get("disputed_since") or "") >= since]
    return {"since": since, "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "stories": [sorted(group, key=lambda a: (a.published or "", a.id)) for group in stories.values()],
            "facts": facts, "entities": store.entity_first_seen(scoped), "new_claims": new_claims,
            "newly_disputed": disputed, "notes": analyst_notes(store, since)}


def analyst_notes(store: Store, since: str) -> list[dict]:
    """Articles and facts an analyst starred, tagged or noted at or after `since` (rows of `export --what notes`)."""
    return [row for row in note_rows(store) if (row["updated"] or "") >= since]


def _note_line(note: dict) -> str:
    """★ when starred, the tags, then the note."""
    tags = f" [{', '.join(note['tags'])}]" if note.get("tags") else ""
    return f"{'★ ' if note.get('starred') else ''}{note['kind']}{tags}" + (f": {note['note']}" if note.get("note") else "")


def _claim_line(claim: dict) -> str:
    return (f"{claim['slot']} = {claim['text']} — {claim['status']}, {claim['outlets']} for, {claim['against']} "
            f"against ({'+'.join(claim['languages'])})")


def _entity_label(entity) -> str:
    return f"{entity.name} / {entity.name_hi}" if entity.name_hi and entity.name_hi != entity.name else entity.name


def _fact_md(fact: Fact) -> str:
    pieces = []
    for text, kind in segments(fact.sentence, fact_marks(fact)):
        clean = text.replace("*", "\\*").replace("[", "\\[").replace("]", "\\]")
        pieces.append(f"**{clean}**" if kind else clean)
    return "".join(pieces)


def render_markdown(digest: dict) -> str:
    """A Markdown digest: stories, facts with their figures and agencies in bold, new entities."""
    articles = sum(len(s) for s in digest["stories"])
    lines = [f"# Prahari digest: new since {shown(digest['since'])}", "",
             f"{articles} new articles in {len(digest['stories'])} stories, {len(digest['facts'])} new facts, "
             f"{len(digest['entities'])} new entities, {len(digest['new_claims'])} new claims, "
             f"{len(digest['newly_disputed'])} newly disputed.", "", "## New articles"]
    for story in digest["stories"]:
        lead = story[0]
        lines.append(f"- [{_md_text(lead.title)}]({lead.url}) ({lead.source}, {lead.language}, "
                     f"{shown(lead.published)}){f' and {len(story) - 1} more sources' if len(story) > 1 else ''}")
        lines += [f"  - [{_md_text(a.title)}]({a.url}) ({a.source})" for a in story[1:]]
    lines += ["", "## New facts"]
    lines += [f"- {_fact_md(f)} ([{f.source}]({f.url}), {f.event_date or (f.published or '')[:10]})"
              for f in digest["facts"]]
    lines += ["", "## New entities"]
    lines += [f"- {_md_text(_entity_label(e['entity']))} ({e['entity'].type}, {e['articles']} articles)"
              for e in digest["entities"]]
    for title, key in (("Newly disputed claims", "newly_disputed"), ("New claims", "new_claims")):
        lines += ["", f"## {title}"]
        lines += [f"- {_md_text(_claim_line(c))}: first [{c['first_source']}]({c['first_url']})" for c in digest[key]]
    lines += ["", "## Analyst notes"]
    lines += [f"- {_md_text(_note_line(n))} — [{_md_text(n['text'][:160])}]({n['url']}) ({n['source']})"
              for n in digest["notes"]]
    return "\n".join(lines) + "\n"


def _md_text(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]").replace("*", "\\*")


def _fact_html(fact: Fact) -> str:
    return "".join(f'<mark class="{kind}">{html.escape(text)}</mark>' if kind else html.escape(text)
                   for text, kind in segments(fact.sentence, fact_marks(fact)))


def _story_html(story: list[Article]) -> str:
    lead = story[0]
    more = "".join(f'<li><a href="{html.escape(a.url)}">{html.escape(a.title)}</a> ({html.escape(a.source)})</li>'
                   for a in story[1:])
    sources = f" · {len(story)} sources" if len(story) > 1 else ""
    return (f'<a href="{html.escape(lead.url)}">{html.escape(lead.title)}</a> '
            f"({html.escape(lead.source)}, {lead.language}, {html.escape(shown(lead.published))}{sources})"
            + (f"<ul>{more}</ul>" if more else ""))


def render_html(digest: dict) -> str:
    """A standalone HTML page: the same content as the Markdown digest, every page string escaped."""
    stories = "".join(f"<li>{_story_html(s)}</li>" for s in digest["stories"])
    facts = "".join(f'<li>{_fact_html(f)} (<a href="{html.escape(f.url)}">{html.escape(f.source)}</a>, '
                    f"{html.escape(f.event_date or (f.published or '')[:10])})</li>" for f in digest["facts"])
    entities = "".join(f"<li>{html.escape(_entity_label(e['entity']))} ({e['entity'].type}, {e['articles']} articles)</li>"
                       for e in digest["entities"])
    claims = {key: "".join(f'<li>{html.escape(_claim_line(c))}: first <a href="{html.escape(c["first_url"])}">'
                           f'{html.escape(c["first_source"])}</a></li>' for c in digest[key])
              for key in ("newly_disputed", "new_claims")}
    notes = "".join(f'<li>{html.escape(_note_line(n))} — <a href="{html.escape(n["url"])}">'
                    f'{html.escape(n["text"][:160])}</a> ({html.escape(n["source"])})</li>' for n in digest["notes"])
    since = html.escape(shown(digest["since"]))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Prahari digest since '
            f'{since}</title><style>body{{font-family:"Noto Sans","Noto Sans Devanagari",sans-serif;'
            f'max-width:60em;margin:2em auto}} mark.figure{{background:#ffe08a}} mark.date{{background:#c9f2d0}}'
            f'</style></head><body><h1>Prahari digest: new since {since}</h1>'
            f"<h2>New articles</h2><ul>{stories}</ul><h2>New facts</h2><ul>{facts}</ul>"
            f"<h2>New entities</h2><ul>{entities}</ul><h2>Newly disputed claims</h2><ul>{claims['newly_disputed']}</ul>"
            f"<h2>New claims</h2><ul>{claims['new_claims']}</ul><h2>Analyst notes</h2><ul>{notes}</ul>"
            "</body></html>\n")


def render_atom(digest: dict, feed_id: str) -> str:
    """An Atom 1.0 feed: one entry per new story, its facts in the entry content."""
    facts_by_article: dict[str, list[Fact]] = {}
    for fact in digest["facts"]:
        facts_by_article.setdefault(fact.article_id, []).append(fact)
    entries = []
    for story in digest["stories"]:
        lead = story[0]
        facts = [f for a in story for f in facts_by_article.get(a.id, [])]
        content = _story_html(story) + ("<ul>" + "".join(f"<li>{_fact_html(f)}</li>" for f in facts) + "</ul>"
                                         if facts else "")
        updated = max((a.first_seen or digest["generated"]) for a in story)
        entries.append(
            f"<entry><id>urn:prahari:story:{xml_escape(lead.story_id or lead.id)}</id>"
            f"<title>{xml_escape(lead.title)}</title><updated>{xml_escape(_rfc3339(updated))}</updated>"
            + (f"<published>{xml_escape(_rfc3339(lead.published))}</published>" if lead.published else "")
            + f'<link rel="alternate" href="{xml_escape(lead.url, {chr(34): "&quot;"})}"/>'
            f"<author><name>{xml_escape(lead.source)}</name></author>"
            f'<content type="html">{xml_escape(content)}</content></entry>')
    for claim in digest["newly_disputed"]:
        entries.append(
            f"<entry><id>urn:prahari:claim:{xml_escape(claim['id'])}:disputed</id>"
            f"<title>{xml_escape('Disputed: ' + _claim_line(claim))}</title>"
            f"<updated>{xml_escape(_rfc3339(claim['disputed_since']))}</updated>"
            f'<link rel="alternate" href="{xml_escape(claim["first_url"], {chr(34): "&quot;"})}"/>'
            f"<author><name>Prahari</name></author></entry>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="{ATOM_NS}"><id>{xml_escape(feed_id)}</id>'
            f"<title>Prahari: new since {xml_escape(digest['since'])}</title>"
            f"<updated>{xml_escape(digest['generated'])}</updated><author><name>Prahari</name></author>"
            f'<generator>Prahari</generator>{"".join(entries)}</feed>\n')


def _rfc3339(stamp: str) -> str:
    """Atom wants a full date-time with an offset; stored stamps already are, dates get midnight UTC."""
    return stamp if "T" in stamp else f"{stamp}T00:00:00+00:00"
