"""rank — text relevance: analysis (folding, elisions, stop words, stems)
and the BM25 index over quotes, prompts and essays.

Pure, no I/O. May import: ``bot.model``, ``bot.text``.
"""
