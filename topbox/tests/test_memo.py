"""topbox.memo: reads kept for one scope only."""

from topbox import memo


def test_a_memoized_function_runs_once_per_arguments_within_a_scope():
    calls = []

    @memo.memoized
    def ids(client_ids, limit=None):
        calls.append((client_ids, limit))
        return [*client_ids, limit]

    assert ids([1, 2]) == [1, 2, None]
    assert ids([1, 2]) == [1, 2, None]
    assert len(calls) == 2  # outside a scope: every call runs
    with memo.scope():
        first = ids([1, 2])
        first.append("changed by a caller")
        assert ids([1, 2]) == [1, 2, None]  # each caller has its own copy
        assert ids([1, 2], limit=3) == [1, 2, 3]
        with memo.scope():  # nested: the same scope
            ids([1, 2], limit=3)
    assert len(calls) == 4
    ids([1, 2])
    assert len(calls) == 5  # the scope's reads are gone with it


def test_a_store_lives_as_long_as_its_scope():
    assert memo.store("documents") is None
    with memo.scope():
        memo.store("documents")["a"] = 1
        assert memo.store("documents") == {"a": 1}
    with memo.scope():
        assert memo.store("documents") == {}
