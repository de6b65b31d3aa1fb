"""Reads that one page repeats, made once: within a :func:`scope`, a :func:`memoized`
function runs once for the same arguments, and :func:`store` keeps what a page read.

Building an admin changelist asks some things more than once, from places that do not
know each other: its count and its keyset windows both read the per-engagement totals,
the search and the count both read the agents' names, the client filter and the count
both read that client's engagements, the rows reference the documents the filters list.
The admin opens a scope while it builds a changelist (``DocumentAdmin``), which reads
and writes nothing else meanwhile; outside a scope nothing is kept, so writes and every
other reader see the database as it is.
"""

import contextlib
import contextvars
import copy
import functools

_stores = contextvars.ContextVar("topbox_memo", default=None)


@contextlib.contextmanager
def scope():
    """Keep reads for the duration of the block (a nested scope shares its parent's)."""
    token = _stores.set({}) if _stores.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _stores.reset(token)


def store(name):
    """The scope's dict called ``name`` (created empty), or None outside a scope."""
    stores = _stores.get()
    return None if stores is None else stores.setdefault(name, {})


def memoized(function):
    """Within a scope, ``function`` runs once per arguments (lists are taken as tuples);
    each caller gets its own (shallow) copy of the result."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        results = store(function)
        if results is None:
            return function(*args, **kwargs)
        key = tuple(map(_hashable, args)), tuple(sorted((name, _hashable(arg)) for name, arg in kwargs.items()))
        if key not in results:
            results[key] = function(*args, **kwargs)
        return copy.copy(results[key])

    return wrapper


def _hashable(argument):
    return tuple(argument) if isinstance(argument, list) else argument
