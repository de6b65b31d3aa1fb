"""Fields shared by Topbox documents."""

from django_mongoengine import fields


def unsafe_keys(value, path=""):
    """Yield ``(path, reason)`` for every key MongoDB cannot store safely, at any depth.

    Keys must be strings, must not start with ``$`` (operators) and must not contain ``.``
    (path separators) or NUL. Paths are dotted, with list positions as ``[i]``.
    """
    if isinstance(value, dict):
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
            yield from unsafe_keys(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unsafe_keys(item, f"{path}[{index}]")


class FreeFormDictField(fields.DictField):
    """A sub-document holding any JSON object (nested values included), as given.

    Every key, at every depth, must be one MongoDB can store and query safely.
    """

    def validate(self, value):
        for path, reason in unsafe_keys(value):
            self.error(f"{path}: {reason}")  # raises: the first problem is reported
        super().validate(value)
