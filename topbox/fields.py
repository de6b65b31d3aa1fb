"""Fields shared by Topbox documents."""

import math
import re

from django_mongoengine import fields

MAX_DEPTH = 100  # MongoDB's limit on nested documents and arrays
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # MongoDB's limit on one document's BSON
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def storage_problems(value, path="", depth=0):
    """Yield ``(path, reason)`` for everything in ``value`` MongoDB cannot store safely.

    Keys must be strings, must not start with ``$`` (operators) and must not contain ``.``
    (path separators) or NUL; integers must fit in 64 bits, numbers must be finite, text
    must be valid Unicode, and nesting must stay within MongoDB's 100 levels. Paths are
    dotted, with list positions as ``[i]``.
    """
    if depth > MAX_DEPTH:
        yield path, f"nested more than {MAX_DEPTH} levels deep"
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str):
                yield here, "keys must be strings"
                continue
            if key.startswith("$"):
                yield here, "keys must not start with '$'"
            elif "." in key:
                yield here, "keys must not contain '.'"
            elif "\x00" in key:
                yield here, "keys must not contain NUL"
            elif not is_valid_unicode(key):
                yield here.encode("utf-8", "backslashreplace").decode(), "keys must be valid Unicode"
                continue
            yield from storage_problems(item, here, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from storage_problems(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        yield path, "integers must fit in 64 bits"
    elif isinstance(value, float) and not math.isfinite(value):
        yield path, "numbers must be finite"
    elif isinstance(value, str) and not is_valid_unicode(value):
        yield path, "text must be valid Unicode"


def is_valid_unicode(text):
    """False for text holding lone surrogates: what JSON's \\ud800 escapes and undecodable
    bytes read with ``surrogateescape`` leave, and what UTF-8 (and so BSON) cannot hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which JSON's \ud800 escapes can carry
        return False
    return True


# C0 and C1 control characters and DEL: a NUL, a tab, a line break, an escape, ...
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def control_character_problem(text):
    """Why ``text`` cannot be a one-line label (it holds a control character), or None."""
    found = _CONTROL.search(text) if isinstance(text, str) else None
    if found is None:
        return None
    return f"must not contain control characters (U+{ord(found.group()):04X} at position {found.start() + 1})"


class LineField(fields.StringField):
    """One line of text that names something (a client, an engagement, an agent): no
    control characters, which no name holds and which would reach keys, CSV cells and
    terminals as they are. (Free-form text, such as ``custom``, keeps them.)"""

    def validate(self, value):
        super().validate(value)
        problem = control_character_problem(value)
        if problem:
            self.error(problem)


class FreeFormDictField(fields.DictField):
    """A sub-document holding any JSON object (nested values included), as given.

    Everything in it, at every depth, must be something MongoDB can store and query
    safely (:func:`storage_problems`).
    """

    def validate(self, value):
        for path, reason in storage_problems(value):
            self.error(f"{path}: {reason}")  # raises: the first problem is reported
        super().validate(value)
