"""Text normalisation shared by relevance, search indexing and entity matching."""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

from indicnlp.normalize.indic_normalize import IndicNormalizerFactory
from indicnlp.tokenize import indic_tokenize

DEVANAGARI = re.compile(r"[\u0900-\u097F]")
LATIN = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"\w", re.UNICODE)
_SYMBOLS = re.compile(r"[₹$€£%]")
# Devanagari digits ०-९ read as ASCII digits everywhere.
DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_DEVANAGARI_DIGIT = re.compile("[०-९]")


@lru_cache(maxsize=1)
def _hindi_normaliser():
    # Nukta and nasal variants fold together: करोड़/करोड, मन्त्रालय/मंत्रालय, ज़्यादा/ज्यादा.
    return IndicNormalizerFactory().get_normalizer("hi", remove_nuktas=True, nasals_mode="to_anusvaara_relaxed")


def nfc(text: str) -> str:
    """NFC-normalise (ड़ arrives both precomposed and as ड + nukta)."""
    return unicodedata.normalize("NFC", text or "")


def normalise(text: str) -> str:
    """Fold text for matching: NFC, nukta/nasal variants, Devanagari digits, case."""
    text = nfc(text)
    if DEVANAGARI.search(text):
        text = _hindi_normaliser().normalize(text)
        # The normaliser turns chandrabindu into anusvara only next to some consonants; finish the job.
        text = text.replace("\u0901", "\u0902").replace("\u093c", "")
    if _DEVANAGARI_DIGIT.search(text):  # translate is slow on long text; most has no Devanagari digits
        text = text.translate(DIGITS)
    return text.casefold()


# indic-nlp's trivial tokenizer, rebuilt on re.split: the same tokens at a fraction of the cost of its
# templated regex substitution, which matters when a bulk write analyses a million articles.
# Its pattern decides which characters count (its class escapes `]` with the backslash, so `\\` is not one).
_PUNCTUATION = [c for c in string.punctuation + "\u0964\u0965\uAAF1\uAAF0\uABEB\uABEC\uABED\uABEE\uABEF\u1C7E\u1C7F"
                if indic_tokenize.triv_tokenizer_indic_pat.fullmatch(c)]
_PUNCTUATION_SPLIT = re.compile("([" + re.escape("".join(_PUNCTUATION)) + "])")
_SPACES = re.compile(r"[ ]+")
_DIGIT = re.compile(r"[0-9]")


def _tokens(text: str) -> list[str]:
    """Split on spaces around punctuation, keeping digit groups such as 1,200 or 23/11 whole."""
    spaced = _SPACES.sub(" ", " ".join(_PUNCTUATION_SPLIT.split(text.replace("\t", " ")))).strip(" ")
    if _DIGIT.search(spaced):
        joined, prev = [], 0
        for match in indic_tokenize.pat_num_seq.finditer(spaced):
            if match.start() > prev:  # as indic-nlp does: a group starting where the last one ended stays split
                joined += [spaced[prev:match.start()], match.group(0).replace(" ", "")]
                prev = match.end()
        spaced = "".join(joined) + spaced[prev:]
    return spaced.split(" ")


def analyse(text: str) -> list[str]:
    """Search tokens: normalised words, punctuation dropped (used by every store backend)."""
    text = _SYMBOLS.sub(" ", normalise(text))
    return [tok for tok in _tokens(text) if tok.isalnum() or _WORD.search(tok)]


def search_text(text: str) -> str:
    """The analysed words joined by single spaces: the form stores index and content hashes are made from."""
    return " ".join(analyse(text))


def search_words(analysed: str) -> list[str]:
    """The words of a search_text form again (a word never holds a space, and none is empty)."""
    return analysed.split(" ") if analysed else []


def script_language(text: str) -> str:
    """Guess hi or en from the script: Devanagari letters versus Latin letters."""
    sample = text[:20000]
    hindi = len(DEVANAGARI.findall(sample))
    latin = len(LATIN.findall(sample))
    return "hi" if hindi > latin * 0.5 else "en"
