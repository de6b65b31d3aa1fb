"""Counts of interactions, kept up to date on every write: what statistics, list pages and
the admin read instead of the interactions themselves.

The invariant: the stored counts equal the aggregation over the interactions after every
committed write. Each write and its counts commit in one transaction (see
:func:`topbox.documents.write`): the API's, the admin's, ``Document.save()``/``delete()``,
ingest and the sample data's bulk loads all send :data:`topbox.documents.written` from
inside it (:mod:`interactions.signals`). Writes made around Topbox's code, such as a mongo
shell's, are repaired by ``manage.py rebuild_rollups``, which also checks the counts.

Statistics over any range read one small document per engagement and day (or per
engagement, or per agent) rather than every interaction: flat as the data grows.

- :mod:`~interactions.counts.keys`: the collections, their indexes and how their
  documents are keyed (days, hours, sentiments, agents' names, document ids).
- :mod:`~interactions.counts.recording`: the write path, in the writer's transaction
  (:func:`~interactions.counts.recording.record`, ``Tally`` for bulk loads, ``clear``).
- :mod:`~interactions.counts.reading`: what list pages, statistics and the admin ask
  (counts by scope, sentiment and dates, spans, daily documents, agents, CSV files).
- :mod:`~interactions.counts.estimating`: how far a page's window must reach, from the
  counts (``page_bound``, ``agent_bound``).
- :mod:`~interactions.counts.rebuilding`: the counts recomputed from the interactions:
  the reference, ``rebuild``, the check (``differences``) and deploy-time migrations.

Callers import the module that holds what they use (``from interactions.counts import
reading``); this package re-exports nothing.
"""
