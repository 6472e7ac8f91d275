"""Text normalisation shared by relevance, search indexing and entity matching."""

from __future__ import annotations

import re
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
    return text.translate(DIGITS).casefold()


def analyse(text: str) -> list[str]:
    """Search tokens: normalised words, punctuation dropped (used by every store backend)."""
    text = _SYMBOLS.sub(" ", normalise(text))
    return [tok for tok in indic_tokenize.trivial_tokenize(text) if _WORD.search(tok)]


def script_language(text: str) -> str:
    """Guess hi or en from the script: Devanagari letters versus Latin letters."""
    sample = text[:20000]
    hindi = len(DEVANAGARI.findall(sample))
    latin = len(LATIN.findall(sample))
    return "hi" if hindi > latin * 0.5 else "en"
