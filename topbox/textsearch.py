"""Case-insensitive word search on stored strings, as MongoDB filters.

Every word must appear, in any order and case; regular-expression characters match
themselves. The pattern is given as ``$regex`` with ``$options``: a compiled pattern on
an indexed field matches nothing on the embedded development server.
"""

import re


def words_pattern(words):
    """One regular expression matching text that holds every word, in any order, any case."""
    escaped = [re.escape(word) for word in words]
    return escaped[0] if len(escaped) == 1 else "".join(f"(?=[\\s\\S]*{word})" for word in escaped)


def words_filter(db_fields, words):
    """The raw filter: every word in one of ``db_fields`` (one condition per field; ``$or``
    only across several fields, since it stops a sorted query from using an index)."""
    condition = {"$regex": words_pattern(words), "$options": "i"}
    if len(db_fields) == 1:
        return {db_fields[0]: condition}
    return {"$or": [{name: condition} for name in db_fields]}
