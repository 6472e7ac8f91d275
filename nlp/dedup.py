"""Dedup: canonical URLs, exact content hashes and MinHash near-duplicate signatures."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from nlp.normalize import analyse, search_text, search_words

NUM_PERM = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.6 Jaccard almost always share a band
ROWS = NUM_PERM // BANDS
NEAR_DUPLICATE_JACCARD = 0.6
SHINGLE = 3
TRACKING_PARAMS = re.compile(r"^(utm_.*|fbclid|gclid|amp|outputType|ref|cmpid)$", re.I)


def canonical_url(url: str) -> str:
    """Strip tracking parameters, AMP variants, fragments and trailing slashes."""
    parts = urlsplit(url.strip())
    path = re.sub(r"/amp(/|\.html?)?$", "", parts.path)
    path = re.sub(r"^/amp/", "/", path)
    path = re.sub(r"\.amp(\.html?)?$", r"\1", path) if path.endswith((".amp", ".amp.html")) else path
    path = path.rstrip("/") or "/"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not TRACKING_PARAMS.match(k)))
    host = (parts.hostname or "").lower()
    if host.startswith("amp."):
        host = host[4:]
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def content_hash(text: str, analysed: Optional[str] = None) -> str:
    """Hash of the normalised words, so whitespace and case changes do not matter (`analysed`: the text's
    search_text, when it was made already)."""
    return hashlib.sha1((search_text(text) if analysed is None else analysed).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The fixed affine permutations h -> a*h + b (mod 2^32, a odd), drawn from seed 7."""
    draw = np.random.RandomState(7)
    a = draw.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = draw.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _mix(hashes: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer: spreads the input hashes before the permutations."""
    hashes = hashes ^ (hashes >> np.uint32(16))
    hashes = hashes * np.uint32(0x85EBCA6B)
    hashes = hashes ^ (hashes >> np.uint32(13))
    hashes = hashes * np.uint32(0xC2B2AE35)
    return hashes ^ (hashes >> np.uint32(16))


def minhash_signature(text: str, analysed: Optional[str] = None) -> np.ndarray:
    """MinHash over word shingles of the normalised text.

    The same values as datasketch 2's MinHash (scheme affine32, seed 7, SHA-1 shingle hashes), which wrote
    the signatures already stored: importing datasketch pulled in SciPy, 1 s and 57 MB in every process.
    """
    words = analyse(text) if analysed is None else search_words(analysed)
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    hashes = np.fromiter((int.from_bytes(hashlib.sha1(s.encode("utf-8")).digest()[:4], "little") for s in shingles),
                         dtype=np.uint32, count=len(shingles))
    a, b = _permutations()
    with np.errstate(over="ignore"):  # the wraparound is the mod 2^32
        return (_mix(hashes)[:, None] * a + b).min(axis=0).astype(np.uint64)


def band_keys(signature: np.ndarray) -> list[str]:
    """LSH band keys: two texts sharing a key are near-duplicate candidates."""
    return [f"{b}:" + hashlib.md5(signature[b * ROWS:(b + 1) * ROWS].tobytes()).hexdigest()[:16]
            for b in range(BANDS)]


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of two signatures; given a stack of signatures (one per row), one per row."""
    return np.mean(sig_a == sig_b, axis=-1)
