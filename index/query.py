"""The parsed query model: user search text becomes a tree, never raw engine syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from typing import Optional, Union

from nlp.lexicon import equivalence_groups
from nlp.normalize import DEVANAGARI, LATIN, analyse
from prahari.errors import QuerySyntaxError

OPERATORS = ("AND", "OR", "NOT")
_TOKEN = re.compile(r'\s*(?:(?P<quote>"[^"]*"?)|(?P<paren>[()])|(?P<word>[^\s()"]+))')


@dataclass
class Term:
    """One word (tokens of the analysed word form a phrase); prefix=True for word*."""

    tokens: list[str]
    prefix: bool = False


@dataclass
class Phrase:
    """Words that must appear together in this order."""

    tokens: list[str]


@dataclass
class BoolNode:
    """AND / OR over children; NOT as AND with negated children."""

    op: str
    children: list["Node"]
    negated: list["Node"] = field(default_factory=list)


Node = Union[Term, Phrase, BoolNode]


@dataclass
class Scope:
    """What every view of the store narrows by (the CLI's filter options and the dashboard's URL share it)."""

    incident: Optional[str] = None
    since: Optional[date] = None
    until: Optional[date] = None
    lang: Optional[str] = None
    entity: list[str] = field(default_factory=list)
    source: Optional[str] = None

    def scope(self) -> dict:
        """The scope fields as keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(Scope)}


@dataclass
class Filters(Scope):
    """Filters shared by search, timeline, export and the dashboard."""

    include_irrelevant: bool = False
    first_seen_since: Optional[str] = None
    figure_kind: Optional[str] = None  # money | count | data | duration | percent


def _lex(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            break
        pos = match.end()
        if match.group("quote") is not None:
            quoted = match.group("quote")
            if len(quoted) < 2 or not quoted.endswith('"'):
                raise QuerySyntaxError('unclosed quote: add the closing " to finish the phrase')
            tokens.append(("phrase", quoted[1:-1]))
        elif match.group("paren"):
            tokens.append(("paren", match.group("paren")))
        else:
            word = match.group("word")
            tokens.append(("op", word) if word in OPERATORS else ("word", word))
    return tokens


class _Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := unary ([AND] unary)*."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens, self.pos = tokens, 0

    def peek(self) -> Optional[tuple[str, str]]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            kind, value = self.peek()
            raise QuerySyntaxError(f"unexpected {value!r}: check the parentheses")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.peek() == ("op", "OR"):
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else BoolNode("OR", children)

    def and_expr(self) -> Node:
        positive: list[Node] = []
        negated: list[Node] = []
        while True:
            token = self.peek()
            if token is None or token == ("paren", ")") or token == ("op", "OR"):
                break
            if token == ("op", "AND"):
                self.take()
                if self.peek() is None or self.peek() in (("paren", ")"), ("op", "OR"), ("op", "AND")):
                    raise QuerySyntaxError("AND needs a search term on both sides, e.g. ransom AND AIIMS")
                continue
            if token == ("op", "NOT"):
                self.take()
                if self.peek() is None or self.peek()[0] == "op" or self.peek() == ("paren", ")"):
                    raise QuerySyntaxError("NOT needs a search term after it, e.g. ransom NOT bitcoin")
                negated.append(self.unary())
                continue
            positive.append(self.unary())
        if not positive:
            if negated:
                raise QuerySyntaxError("NOT needs a term before it to exclude from, e.g. ransom NOT bitcoin")
            raise QuerySyntaxError("empty search: type a word, a \"phrase\", or combine them with AND/OR/NOT")
        if len(positive) == 1 and not negated:
            return positive[0]
        return BoolNode("AND", positive, negated)

    def unary(self) -> Node:
        kind, value = self.take()
        if kind == "paren" and value == "(":
            if self.peek() is None:
                raise QuerySyntaxError("unclosed parenthesis: add ')' to close the group")
            node = self.or_expr()
            if self.peek() != ("paren", ")"):
                raise QuerySyntaxError("unclosed parenthesis: add ')' to close the group")
            self.take()
            return node
        if kind == "paren":
            raise QuerySyntaxError("unexpected ')': check the parentheses")
        if kind == "phrase":
            words = analyse(value)
            if not words:
                raise QuerySyntaxError("empty phrase: put words between the quotes")
            return Phrase(words)
        prefix = value.endswith("*")
        words = analyse(value.rstrip("*"))
        if not words:
            if prefix:
                raise QuerySyntaxError("a prefix search needs letters before the *, e.g. hack*")
            raise QuerySyntaxError(f"{value!r} has no letters or digits to search for")
        return Term(words, prefix=prefix)


MAX_QUERY_CHARS = 1000
MAX_NESTING = 8  # parentheses inside parentheses
MAX_TERMS = 64  # words and phrases in one query
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def parse_query(text: str) -> Node:
    """Parse search text (words, "phrases", AND/OR/NOT, parentheses, prefix*) into a query tree.

    Any string gives a tree or one QuerySyntaxError; control characters (a NUL byte) count as spaces,
    and deep nesting or very long queries are refused before they reach an engine's parser.
    """
    text = _CONTROL.sub(" ", text or "")
    if not text.strip():
        raise QuerySyntaxError("empty search: type a word, a \"phrase\", or combine them with AND/OR/NOT")
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"search too long: at most {MAX_QUERY_CHARS} characters")
    tokens = _lex(text)
    depth = deepest = 0
    for kind, value in tokens:
        if kind == "paren":
            depth += 1 if value == "(" else -1
            deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise QuerySyntaxError(f"too many nested parentheses: at most {MAX_NESTING} levels")
    if sum(1 for kind, _value in tokens if kind in ("word", "phrase")) > MAX_TERMS:
        raise QuerySyntaxError(f"too many search terms: at most {MAX_TERMS}")
    return _Parser(tokens).parse()


MAX_VARIANTS = 12  # per term, so a query never explodes


@lru_cache(maxsize=1)
def _equivalents() -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    """Analysed form of every glossary word and entity alias -> the analysed forms of its group."""
    groups = equivalence_groups()
    table: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for group in groups:
        forms = list(dict.fromkeys(tuple(analyse(str(term))) for term in group))
        forms = [f for f in forms if f]
        for form in forms:
            merged = table.setdefault(form, [])
            merged.extend(f for f in forms if f not in merged)
    return table


def _variants(tokens: list[str]) -> list[tuple[str, ...]]:
    """The token sequence itself, its whole-sequence equivalents, then single-word swaps inside it. A swap that
    puts a Devanagari word among Latin words is left out: Hindi reports carry Latin names and acronyms ("AIIMS
    सर्वर"), but English ones never carry Hindi words, so such a phrase only costs the search its time. Digits
    belong to neither script: "200 crore" still gives "200 करोड़"."""
    table = _equivalents()
    out = [tuple(tokens)] + [v for v in table.get(tuple(tokens), []) if v != tuple(tokens)]
    if len(tokens) > 1:
        for index, token in enumerate(tokens):
            rest = " ".join(tokens[:index] + tokens[index + 1:])  # digits belong to neither script
            latin_around = bool(LATIN.search(rest)) and not DEVANAGARI.search(rest)
            for swap in table.get((token,), []):
                if latin_around and any(DEVANAGARI.search(word) for word in swap):
                    continue
                out.append(tuple(tokens[:index]) + swap + tuple(tokens[index + 1:]))
    return list(dict.fromkeys(out))[:MAX_VARIANTS]


def _distinct_alternatives(children: list[Node]) -> list[Node]:
    """An OR's alternatives with nested ORs opened and repeats left out: "फिरौती OR ransom" widens each word to
    both forms, and every repeat costs the engine another pass over the same postings (and weighs twice)."""
    distinct: dict[str, Node] = {}
    for child in children:
        opened = child.children if isinstance(child, BoolNode) and child.op == "OR" and not child.negated else [child]
        for alternative in opened:
            distinct.setdefault(repr(alternative), alternative)
    return list(distinct.values())


def expand_query(node: Node) -> Node:
    """Let every word or phrase also match its other-script and alias forms (एनआईए -> NIA, ransom -> फिरौती)."""
    if isinstance(node, BoolNode):
        children = [expand_query(c) for c in node.children]
        if node.op == "OR":
            children = _distinct_alternatives(children)
            if len(children) == 1 and not node.negated:
                return children[0]
        return BoolNode(node.op, children, [expand_query(n) for n in node.negated])
    if isinstance(node, Term) and node.prefix:
        return node
    variants = _variants(node.tokens)
    if len(variants) == 1:
        return node
    same = Term if isinstance(node, Term) else Phrase
    return BoolNode("OR", [same(list(v)) if len(v) == 1 or same is Phrase else Phrase(list(v)) for v in variants])


def build_search(text: str) -> Node:
    """Parse search text and widen it across scripts and aliases: what search boxes and the CLI use."""
    return expand_query(parse_query(text))


def _leaves(node: Node, negated: bool = False):
    """Every Term and Phrase in the tree, with whether it sits under NOT."""
    if isinstance(node, BoolNode):
        for child in node.children:
            yield from _leaves(child, negated)
        for child in node.negated:
            yield from _leaves(child, True)
    else:
        yield node, negated


def single_script_words(text: str) -> list[str]:
    """Words of the search text with no other-script form in the glossary or the entity aliases (they match only
    the script they are typed in): the dashboard says so when a search finds little."""
    found = []
    for node, negated in _leaves(parse_query(text)):
        if not negated and not (isinstance(node, Term) and node.prefix) and len(_variants(node.tokens)) == 1:
            found.append(" ".join(node.tokens))
    return list(dict.fromkeys(found))


def match_words(node: Node) -> tuple[frozenset[str], tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """What a search looks for, leaving out NOT parts: single analysed words, prefixes (word*), and phrases
    (token sequences that count only together)."""
    words, prefixes, phrases = set(), [], []
    for leaf, negated in _leaves(node):
        if negated:
            continue
        if isinstance(leaf, Term) and leaf.prefix:
            prefixes += leaf.tokens[-1:]
            if len(leaf.tokens) > 1:
                phrases.append(tuple(leaf.tokens[:-1]))
        elif len(leaf.tokens) == 1:
            words.add(leaf.tokens[0])
        elif leaf.tokens:
            phrases.append(tuple(leaf.tokens))
    return frozenset(words), tuple(prefixes), tuple(dict.fromkeys(phrases))
