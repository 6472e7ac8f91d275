"""Dedup: canonical URLs, exact content hashes and MinHash near-duplicate signatures."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from datasketch import MinHash

from nlp.normalize import analyse

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


def content_hash(text: str) -> str:
    """Hash of the normalised words, so whitespace and case changes do not matter."""
    return hashlib.sha1(" ".join(analyse(text)).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _permutations() -> tuple:
    """The fixed hash permutations (datasketch would rebuild them for every signature)."""
    return MinHash(num_perm=NUM_PERM, seed=7, scheme="affine32").permutations


def minhash_signature(text: str) -> np.ndarray:
    """MinHash over word shingles of the normalised text."""
    words = analyse(text)
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    sig = MinHash(num_perm=NUM_PERM, seed=7, permutations=_permutations(), scheme="affine32")
    sig.update_batch([s.encode("utf-8") for s in shingles])
    return sig.hashvalues.astype(np.uint64)


def band_keys(signature: np.ndarray) -> list[str]:
    """LSH band keys: two texts sharing a key are near-duplicate candidates."""
    return [f"{b}:" + hashlib.md5(signature[b * ROWS:(b + 1) * ROWS].tobytes()).hexdigest()[:16]
            for b in range(BANDS)]


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(sig_a == sig_b))
