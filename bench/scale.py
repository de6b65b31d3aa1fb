"""Every page a person opens, at 100,000 and at 1,000,000 interactions, next to raw pymongo.

    .venv/bin/python bench/scale.py [--sizes 100000,1000000] [--repeat 7] [--storage DIR]

Seeds synthetic data (``sampledata.synthetic``: 20 clients, 100 engagements, interactions
over 2024, as ``seed --synthetic`` does) into a throw-away embedded server per size (its
data kept in ``--storage DIR/<size>`` if given, and reused by the next run), then times
in process (Django's test client, a staff user's token or an admin session) p50 and p99
of ``--repeat`` requests for:

* API pages: the first, the 20th (after following 19 next links), the last (by cursor) and
  the previous (from the 20th), unfiltered and by client, sentiment, date range, agent and
  an agent search; the first, 20th and previous ordered by agent name (``ordering=agentName``),
  unfiltered, by client and by sentiment;
* ``count=true`` (unfiltered, a client, an agent, a search); a detail GET; the admin
  changelist (unfiltered, filtered, searched, sorted by agent and by sentiment as a click on
  the column sorts, deep); the picker's search; statistics of
  everything, a client and an engagement by day, week and month.

Next to each, the p50 of the cheapest raw pymongo query that gives the same answer on the
same server, its result encoded as JSON: for a page (of the API or the admin), the page's
own date range (exactly bounded) with its filter, one query per engagement for a client
(an ``$in`` with a range is a scan on this server) and per agent found for an agent
search; by agent name or sentiment, each value's rows on the page read by their own date
range on the (value, date, id) index; for ``count=true``, that page and the totals documents (or the
agents' totals) the count is read from;
``find_one`` for a detail; for statistics, reading the day totals and the agents' totals
they are made of. The table ends with each figure's growth from the first size to the last.

After a size's figures, what they would cost without the stored counts is printed once:
``count_documents`` over the interactions and the statistics' one aggregation over them
(last: the embedded server goes on with a scan pymongo gave up on, slowing what follows).
"""

import argparse
import datetime
import itertools
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pymongo.errors import PyMongoError

from bench.harness import p50, p99, throwaway_site, timings

SORT = [("interactionDate", -1), ("_id", -1)]
PAGE = 50
ADMIN_PAGE = 50  # the admin's list_per_page


class Bench:
    def __init__(self, repeat):
        from django.contrib.auth import get_user_model
        from django.test import Client
        from rest_framework.authtoken.models import Token

        user = get_user_model().objects.create_user("bench", is_staff=True, is_superuser=True)
        self.api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}",
                          HTTP_ACCEPT="application/json")  # fmt: skip
        self.admin = Client()
        self.admin.force_login(user)
        self.repeat = repeat
        self.skip_last = False
        self.rows = []  # (case, size, p50, p99, raw p50, note)
        self.twentieth = {}  # label -> the rows of the API's 20th page of the current size
        self.references = []  # (label, function): run once per size, after every figure

    @property
    def collection(self):
        from interactions.documents import Interaction

        return Interaction._get_collection()  # (each size has a server, and a client, of its own)

    def get(self, client, url, params=None):
        response = client.get(url, params or {})
        if response.status_code != 200:
            raise SystemExit(f"GET {url} {params or ''} answered {response.status_code}: {response.content[:300]!r}")
        return response

    def json(self, url, params=None):
        from bson import json_util

        return json_util.loads(self.get(self.api, url, params).content)

    def measure(self, case, size, app, raw, note=""):
        """Time ``app`` (a request) and ``raw`` (raw queries whose result is then encoded as
        JSON, as a response body must be)."""
        from topbox import extjson

        times = timings(app, self.repeat)
        try:
            raw_times = timings(lambda: extjson.dumps(raw()), self.repeat) if raw else None
        except PyMongoError as error:  # (the embedded server may give up on a scan of a million)
            raw_times, note = None, f"{note} raw query failed: {error}".strip()
        row = (case, size, p50(times), p99(times), p50(raw_times) if raw_times else None, note)
        self.rows.append(row)
        raw_text = f"{row[4]:>9.1f}" if row[4] is not None else f"{'':>9}"
        print(f"{case:<34}{size:>9,}{row[2]:>9.1f}{row[3]:>9.1f}{raw_text}  {note}", flush=True)

    # The cheapest raw queries.

    def raw_page(self, match, rows):
        """The page ``rows`` of ``match``, newest first, read by its own date range."""
        from topbox.api.filters import merge
        from topbox.api.pagination import both_ways
        from topbox.api.query import fan_out
        from topbox.dates import at_or_after

        dates = [row["interactionDate"] for row in rows]
        query = merge([match, {"interactionDate": {**at_or_after(min(dates)), "$lte": max(dates)}}])
        queries = fan_out(query, "interactionDate")
        key = both_ways("interactionDate")["-interactionDate"].key

        def run():
            pages = [self.collection.find(part).sort(SORT).limit(len(rows)) for part in queries]
            return sorted(itertools.chain.from_iterable(pages), key=key, reverse=True)[: len(rows)]

        found = [row["_id"] for row in run()]
        if found != [row["_id"] for row in rows]:
            print(f"  (the raw query for {match} found other rows than the page: ties at its edges)")
        return run

    def raw_grouped_page(self, match, rows, field):
        """The page ``rows`` of ``match`` by ``field`` (agent name, sentiment), newest first
        within each value: for each value on the page, its rows read by their own date range
        on the (field, date, id) index (one query per engagement of an ``$in``, merged)."""
        from topbox.api.filters import merge
        from topbox.api.pagination import both_ways
        from topbox.api.query import fan_out
        from topbox.dates import at_or_after

        queries = []
        for value, group in itertools.groupby(rows, key=lambda row: row.get(field)):
            dates = [row["interactionDate"] for row in group]
            window = {"interactionDate": {**at_or_after(min(dates)), "$lte": max(dates)}}
            queries += fan_out(merge([{field: value}, match, window]), "interactionDate")
        key = both_ways("interactionDate")["-interactionDate"].key

        def run():
            found = []
            for _value, parts in itertools.groupby(queries, key=lambda query: query[field]):
                pages = [self.collection.find(query).sort(SORT).limit(len(rows)) for query in parts]
                found += sorted(itertools.chain.from_iterable(pages), key=key, reverse=True)
            return found[: len(rows)]

        if [row["_id"] for row in run()] != [row["_id"] for row in rows]:
            print(f"  (the raw query by {field} for {match} found other rows than the page)")
        return run

    def raw_by_agent(self, match, rows):
        return self.raw_grouped_page(match, rows, "agentName")

    def first_by_sentiment(self, rows):
        """The first ``rows`` interactions by sentiment (none first), newest first within each."""
        from interactions.documents import SENTIMENTS

        found = []
        for sentiment in [None, *sorted(SENTIMENTS)]:
            found += self.collection.find({"sentiment": sentiment}).sort(SORT).limit(rows - len(found))
            if len(found) >= rows:
                return found
        return found

    @staticmethod
    def raw_totals(ids):
        """The totals documents a count is read from."""
        from interactions.counts import keys

        return list(keys.totals().find({"_id": {"$in": ids}}))

    @staticmethod
    def raw_agent_totals(condition):
        """The agents' totals documents an agent's (or a search's) count is read from."""
        from interactions.counts import keys

        return list(keys.names().find({"engagementId": keys.EVERY_ENGAGEMENT, "agentName": condition}))

    @staticmethod
    def raw_picker(word):
        """The picker's page: engagements named with ``word``, or of clients named with it, by
        name; then their clients, for the labels."""
        from clients.documents import Client
        from engagements.documents import Engagement

        clients, engagements = Client._get_collection(), Engagement._get_collection()
        wanted = {"$regex": word, "$options": "i"}
        ids = [row["_id"] for row in clients.find({"$or": [{"name": wanted}, {"nickName": wanted}]}, {"_id": 1})]
        query = {"$or": [{"name": wanted}, {"clientId": {"$in": ids}}]}
        rows = list(engagements.find(query).sort([("name", 1), ("_id", 1)]).limit(21))
        return rows, list(clients.find({"_id": {"$in": [row["clientId"] for row in rows]}}))

    def newest(self, *lists):
        """The ``ADMIN_PAGE`` newest interactions of the API lists filtered by ``lists``."""
        rows = [
            row
            for params in lists
            for row in self.json("/interactions", {**params, "page_size": ADMIN_PAGE})["results"]
        ]
        return sorted(rows, key=lambda row: (row["interactionDate"], row["_id"]), reverse=True)[:ADMIN_PAGE]

    # The cases.

    def pages(self, size, label, params, match, by_agent=False):
        """The first, 20th and previous pages (newest first, or ``by_agent`` name), and the last."""
        from interactions.views import InteractionViewSet
        from topbox.api.pagination import encode_cursor

        raw_page, case = (self.raw_by_agent, "API by agent, ") if by_agent else (self.raw_page, "API ")
        params = {**params, "ordering": "agentName"} if by_agent else params
        first = self.json("/interactions", params)
        self.measure(f"{case}first page, {label}", size, lambda: self.get(self.api, "/interactions", params),
                     raw_page(match, first["results"]))  # fmt: skip
        page, url = first, None
        for _ in range(19):
            if not page["next"]:
                break
            parts = urlsplit(page["next"])
            url = f"{parts.path}?{parts.query}"
            previous_rows, page = page["results"], self.json(url)
        if url is not None:
            if not by_agent:
                self.twentieth[label] = page["results"]
            self.measure(f"{case}20th page, {label}", size, lambda: self.get(self.api, url),
                         raw_page(match, page["results"]))  # fmt: skip
            parts = urlsplit(page["previous"])
            back = f"{parts.path}?{parts.query}"
            self.measure(f"{case}previous page, {label}", size, lambda: self.get(self.api, back),
                         raw_page(match, previous_rows))  # fmt: skip
        # (With a lower date bound: the list's interactions without a date, first when oldest
        # come first, are looked for by a query the embedded server answers with a scan.)
        if self.skip_last or by_agent:
            return
        oldest_first = {"from": "2000-01-01", **params, "ordering": "interactionDate", "page_size": PAGE + 1}
        oldest = self.json("/interactions", oldest_first)["results"]
        if len(oldest) > PAGE:
            ordering = InteractionViewSet.orderings["-interactionDate"]
            boundary = oldest[-1]
            cursor = encode_cursor("/interactions", ordering, boundary["interactionDate"], boundary["_id"])
            last_url = f"/interactions?{urlencode({**params, 'cursor': cursor})}"
            last = self.json(last_url)
            assert last["next"] is None, last_url
            assert len(last["results"]) == PAGE, last_url
            self.measure(f"API last page, {label}", size, lambda: self.get(self.api, last_url),
                         self.raw_page(match, last["results"]))  # fmt: skip

    def run(self, size):
        from clients.documents import Client
        from engagements.documents import Engagement
        from interactions.counts import keys, reading
        from interactions.stats import interaction_stats, raw_interaction_stats

        clients = list(Client.objects.order_by("id"))
        client = clients[0]
        client_engagements = [e.pk for e in Engagement.objects(clientId=client)]
        engagement = client_engagements[0]
        agent = interaction_stats(client=client)["topAgents"][0]["agentName"]
        scopes = [
            ("unfiltered", {}, {}),
            ("client", {"client": str(client.pk)}, {"engagementId": {"$in": client_engagements}}),
            ("sentiment", {"sentiment": "Negative"}, {"sentiment": "Negative"}),
            ("date range", {"from": "2024-03-01", "to": "2024-06-01"},
             {"interactionDate": {"$gte": datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC),
                                  "$lt": datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)}}),
            ("agent", {"agentName": agent}, {"agentName": agent}),
        ]  # fmt: skip
        surname = agent.split()[-1]
        agents = sorted(reading.agent_names([surname]))
        scopes.append(("search", {"search": surname}, {"agentName": {"$in": agents}}))
        for label, params, match in scopes:
            self.pages(size, label, params, match)
        for label, params, match in scopes[:3]:
            self.pages(size, label, params, match, by_agent=True)

        for label, params, match in [*scopes[:2], scopes[4], scopes[5]]:
            first = self.json("/interactions", params)["results"]
            page = self.raw_page(match, first)
            ids = match.get("engagementId", {}).get("$in", [keys.EVERY_ENGAGEMENT])
            named = match.get("agentName")
            totals = (
                (lambda named=named: self.raw_agent_totals(named)) if named else (lambda ids=ids: self.raw_totals(ids))
            )
            self.measure(f"API count=true, {label}", size,
                         lambda params=params: self.get(self.api, "/interactions", {**params, "count": "true"}),
                         lambda page=page, totals=totals: (page(), totals()))  # fmt: skip
            self.references.append(
                (f"count_documents, {label}", lambda match=match: self.collection.count_documents(match))
            )

        detail = self.collection.find_one({"engagementId": engagement}, {"_id": 1})["_id"]
        self.measure("API detail GET", size, lambda: self.get(self.api, f"/interactions/{detail}"),
                     lambda: self.collection.find_one({"_id": detail}))  # fmt: skip

        admin = "/admin/interactions/interaction/"
        for label, params, api_params, match in [
            ("unfiltered", {}, {}, {}),
            ("filtered by client", {"client": str(client.pk)}, {"client": str(client.pk)},
             {"engagementId": {"$in": client_engagements}}),
            ("filtered by sentiment", {"sentiment": "Negative"}, {"sentiment": "Negative"}, {"sentiment": "Negative"}),
            ("searched by agent", {"q": surname}, None, {"agentName": {"$in": agents}}),
            ("searched by engagement id", {"q": str(engagement)}, {"engagement": str(engagement)},
             {"engagementId": engagement}),
        ]:  # fmt: skip
            # The raw page: the admin's 50 newest rows, read by their own date range (for an agent
            # search, one query per agent found, as the admin sends them).
            if api_params is None:
                rows = self.newest(*({"agentName": name} for name in agents))
            else:
                rows = self.newest(api_params)
            self.measure(f"admin changelist, {label}", size, lambda params=params: self.get(self.admin, admin, params),
                         self.raw_page(match, rows))  # fmt: skip
        # Sorted as a click on the column's header sorts (o=2.-1: by agent, then newest first).
        by_agent = self.json("/interactions", {"ordering": "agentName", "page_size": ADMIN_PAGE})["results"]
        self.measure("admin changelist, sorted by agent", size, lambda: self.get(self.admin, admin, {"o": "2.-1"}),
                     self.raw_by_agent({}, by_agent))  # fmt: skip
        by_sentiment = self.first_by_sentiment(ADMIN_PAGE)
        self.measure("admin, sorted by sentiment", size, lambda: self.get(self.admin, admin, {"o": "3.-1"}),
                     self.raw_grouped_page({}, by_sentiment, "sentiment"))  # fmt: skip
        deep = self.deep_admin_url(admin)
        if deep:  # (the same rows as the API's 20th page of everything: 50 a page, newest first)
            raw = self.raw_page({}, self.twentieth["unfiltered"]) if "unfiltered" in self.twentieth else None
            self.measure("admin changelist, deep", size, lambda: self.get(self.admin, deep), raw)

        words = client.name.split()[0][:5]
        self.measure("picker search", size, lambda: self.get(self.api, "/engagements/choices", {"term": words}),
                     lambda: self.raw_picker(words))  # fmt: skip

        rows = keys.collection()
        scopes = [
            ("everything", "/stats", {}, {}),
            (
                "client",
                f"/clients/{client.pk}/stats",
                {"client": client},
                {"engagementId": {"$in": client_engagements}},
            ),
            (
                "engagement",
                f"/engagements/{engagement}/stats",
                {"engagement": engagement},
                {"engagementId": engagement},
            ),
        ]
        agents = {"agentName": {"$exists": True}}

        def raw_stats(engagement_ids):
            """The day totals and the agents' totals the statistics are made of."""
            if engagement_ids is None:
                return [list(keys.daily().find()), list(rows.find({"day": None})),
                        list(keys.names().find({"engagementId": keys.EVERY_ENGAGEMENT, **agents}))]  # fmt: skip
            return [[list(rows.find({"engagementId": pk})),
                     list(keys.names().find({"engagementId": pk, **agents}))] for pk in engagement_ids]  # fmt: skip

        for label, path, scope, match in scopes:
            ids = match.get("engagementId")
            ids = None if ids is None else ids["$in"] if isinstance(ids, dict) else [ids]
            for interval in ("day", "week", "month"):
                self.measure(f"stats by {interval}, {label}", size,
                             lambda path=path, interval=interval: self.get(self.api, path, {"interval": interval}),
                             lambda ids=ids: raw_stats(ids))  # fmt: skip
            self.references.append((f"raw stats aggregation, {label}",
                                    lambda scope=scope: raw_interaction_stats(**scope, interval="month")))  # fmt: skip
        self.run_references()

    def run_references(self):
        """What the figures would cost without the stored counts (a count and an aggregation over
        the interactions), once each, after every figure: the embedded server goes on with a
        scan that pymongo gave up on, which would slow what is measured next."""
        print("Without the stored counts (once each):")
        for label, reference in self.references:
            started = time.perf_counter()
            try:
                reference()
                print(f"  {label}: {(time.perf_counter() - started) * 1000:,.0f} ms", flush=True)
            except PyMongoError as error:  # (the embedded server may give up on a million)
                print(f"  {label}: failed after {time.perf_counter() - started:,.0f} s ({error})", flush=True)
        self.references = []

    def deep_admin_url(self, admin):
        """The changelist's 'Older' link (after=, topbox.admin.keyset) followed 20 times, or the 20th numbered page."""
        import re

        html = self.get(self.admin, admin).content.decode()
        older = re.search(r'href="(\?[^"]*(?:after=|cursor)[^"]*)"', html)
        if older is None:
            return f"{admin}?p=20"
        url = admin + older.group(1).replace("&amp;", "&")
        for _ in range(19):
            html = self.get(self.admin, url).content.decode()
            older = re.search(r'href="(\?[^"]*(?:after=|cursor)[^"]*)"', html)
            if older is None:
                break
            url = admin + older.group(1).replace("&amp;", "&")
        return url


def report(rows, sizes):
    print("\nSummary: p50 ms (p99 ms) [raw p50 ms, ratio] at each size; growth = last / first p50")
    header = "".join(f"{f'{size:,}':>34}" for size in sizes)
    print(f"{'case':<34}{header}{'growth':>8}")
    for case in dict.fromkeys(row[0] for row in rows):
        figures = {row[1]: row for row in rows if row[0] == case}
        cells = []
        for size in sizes:
            row = figures.get(size)
            if row is None:
                cells.append(f"{'-':>34}")
                continue
            raw = f" [{row[4]:.1f}, {row[2] / row[4]:.1f}x]" if row[4] else ""
            cells.append(f"{f'{row[2]:.1f} ({row[3]:.1f}){raw}':>34}")
        first, last = figures.get(sizes[0]), figures.get(sizes[-1])
        growth = f"{last[2] / first[2]:.2f}x" if first and last and len(sizes) > 1 else ""
        print(f"{case:<34}{''.join(cells)}{growth:>8}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--storage", help="Keep each size's data in DIR/<size> (a later run reuses what it holds).")
    parser.add_argument("--seed-only", action="store_true", help="Seed each size's storage; measure nothing.")
    parser.add_argument("--skip-last", action="store_true", help="Leave out the last pages.")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    bench = None
    for size in sizes:
        with throwaway_site(f"{args.storage}/{size}" if args.storage else None):
            from interactions.counts import reading
            from sampledata import synthetic

            stored = reading.scope_totals()["total"]
            if stored >= size:  # a storage seeded by an earlier run (--storage)
                print(f"\nReusing the {stored:,} interactions stored for {size:,}.", flush=True)
            else:
                started = time.perf_counter()
                result = synthetic.generate(clients=20, engagements=100, interactions=size, random_seed=1)
                elapsed = time.perf_counter() - started
                added = result["interaction"].added
                rate = added / max(elapsed, 1e-9)
                print(f"\nSeeded {added:,} interactions (to {size:,}) in {elapsed:.0f} s: {rate:,.0f}/s", flush=True)
            if args.seed_only:
                continue
            bench = bench or Bench(args.repeat)
            bench.skip_last = args.skip_last
            print(f"{'case':<34}{'size':>9}{'p50':>9}{'p99':>9}{'raw p50':>9}  (ms, {args.repeat} requests)")
            bench.run(size)
    if bench:
        report(bench.rows, sizes)


if __name__ == "__main__":
    main()
