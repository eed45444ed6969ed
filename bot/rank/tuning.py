"""The ranking's constants: BM25's parameters, field boosts, how much each
post of a thread weighs, and the cut-offs that keep a query small.
"""

from __future__ import annotations

# -- tuning ------------------------------------------------------------------------

#: BM25 term-frequency saturation and length normalisation (the usual values).
K1 = 1.2
B = 0.75
#: How much a term in a quote's or prompt's tags and keywords counts, as
#: occurrences in its text: the admin put it there on purpose.
FIELD_BOOST = 2.5
#: Same, for an essay's title and hashtags when choosing an essay.
TITLE_BOOST = 2.0
#: How much a word of the passage around a quote (its ``context``) counts:
#: a hint of what the quote is about, well below its own words.
CONTEXT_WEIGHT = 0.3
#: A quote that sets concepts side by side (``joins``), when the query names
#: each of them: its score is multiplied by this. Enough for the passage
#: about both to outrank one that shares more words with one of them.
JOIN_BOOST = 1.5
#: Query weights: the mention is what the bot was asked about; the post it
#: answers counts half as much (as much, when the mention has no content
#: word of its own: « hmm », "is it though"), and each older post 0.8 times
#: the next one.
MENTION_WEIGHT = 1.0
NEAREST_WEIGHT = 0.5
THREAD_DECAY = 0.8
#: Older posts weigh less than this and are not read at all (the 9th
#: ancestor and beyond): a 200-post thread costs what a 9-post one does.
#: Reading three more (down to 0.05) changed no first choice in 300
#: synthetic 50-post threads over 10,000 quotes, for a sixth of the time.
MIN_WEIGHT = 0.1
#: At most this many query terms are scored, the most telling first
#: (weight x idf), as in Lucene's "more like this": long threads stay cheap
#: and a pile of common words cannot drown the rare one that matters.
MAX_QUERY_TERMS = 64
#: Scores are rounded to this many decimals before they are compared: equal
#: scores are equal whatever the summation order, so ties always fall to the
#: id. ``decide`` groups equal scores with the same rounding (its tie-break by
#: least recently used relies on the index listing a group by id).
SCORE_DIGITS = 6
