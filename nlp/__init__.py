"""Language processing: normalisation, extraction, relevance, dedup and the bilingual NLP pipeline."""
