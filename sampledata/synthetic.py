"""Realistic, reproducible synthetic data at scale: ``manage.py seed --synthetic`` and benches.

:func:`generate` adds clients, their engagements (Phone, Chat, SMS, Twitter, Facebook) and
interactions spread over 2024 (UTC): many agents per client, each busier or quieter, every
sentiment (absent too), and channel-specific ``custom`` payloads like the fixtures' (CSV
report rows, chat transcripts, tweets, SMS, Facebook posts).

The same arguments give the same documents, ids included: ids are drawn from the seeded
random generator, so running it again adds nothing, and a run that was interrupted is
completed by running it again. Asking for more interactions with the same seed adds only
the new ones (the first N are the same). Interactions are written in unordered bulk
batches as they are generated (one batch written while the next is generated), so memory
stays flat whatever N is; each batch is counted in the transaction that writes it, so an
interrupted run leaves every batch either stored and counted or not there at all.
"""

import datetime
import itertools
import random
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from bson import ObjectId

from clients.documents import Client
from engagements.documents import Engagement
from interactions.documents import SENTIMENTS, Interaction
from sampledata.seeding import CollectionResult, record
from topbox.documents import insert_new

CHANNELS = ("Phone", "Chat", "SMS", "Twitter", "Facebook")
PERIOD_START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
PERIOD_SECONDS = 366 * 24 * 3600  # 2024 is a leap year
AGENTS_PER_CLIENT = 40
BATCH_SIZE = 2000
SENTIMENT_CHOICES = (*SENTIMENTS, None)  # None: no sentiment
SENTIMENT_WEIGHTS = (30, 22, 22, 11, 15)
# Hours of the day, weighted towards office hours (UTC).
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 10, 11, 12, 12, 10, 8, 6, 4, 3, 2, 1, 1)

# Not the fixtures' companies (Acme, Northwind, Globex): synthetic clients are told apart from them.
COMPANIES = ("Initech", "Umbrella", "Hooli", "Vandelay", "Soylent", "Cyberdyne",
             "Tyrell", "Wonka", "Oscorp", "Stark", "Wayne", "Gringotts", "Monarch", "Pied Piper", "Dunder")  # fmt: skip
SECTORS = ("Footwear", "Telecom", "Airlines", "Bank", "Insurance", "Retail", "Energy", "Logistics", "Foods")
FIRST_NAMES = ("John", "Wei", "Priya", "Carlos", "Amara", "Lucas", "Sofia", "Kenji", "Fatima", "Olga", "Mateo",
               "Aisha", "Liam", "Chloe", "Ravi", "Yuki", "Noah", "Elena", "Omar", "Hana", "Jonas", "Zara")  # fmt: skip
LAST_NAMES = ("Ford", "Tanaka", "Smith", "Chen", "Okafor", "Silva", "Novak", "Garcia", "Khan", "Müller", "Rossi",
              "Nguyen", "Dubois", "Kowalski", "Haddad", "Larsen", "Patel", "O'Brien", "Santos", "Ivanova")  # fmt: skip
REGIONS = ("NY", "CA", "TX", "FL", "WA", "IL", "BC", "ON", "QC", "MA")
CUSTOMER_LINES = ("Hi, my order hasn't arrived.", "I was charged twice this month.", "Can I change my plan?",
                  "The app keeps logging me out.", "Thanks, that fixed it!", "Why is my flight delayed again?",
                  "Where is my package?", "I'd like a refund, please.", "ok I guess", "Great service 👍")  # fmt: skip
AGENT_LINES = ("Sorry to hear that! Can I have the order number?", "I've refunded the duplicate charge.",
               "Sure, let me look into it.", "Could you try reinstalling the app?", "Glad I could help!",
               "I've escalated this to our team.")  # fmt: skip


def generate(
    *, clients=3, engagements=10, interactions=1000, random_seed=0, batch_size=BATCH_SIZE, on_progress=None, by=None
):
    """Add synthetic clients, engagements and interactions; return their counts.

    Engagements are spread over the clients round-robin (so ``engagements >= clients``).
    ``on_progress(done)`` is called after each batch with the interactions generated so
    far. Returns ``{collection name: CollectionResult(added, present)}``. With ``by`` (a
    user), each collection's counts are one entry of the history.
    """
    if clients < 1:
        raise ValueError(f"Need at least one client, not {clients}.")
    if engagements < clients:
        raise ValueError(f"Need at least one engagement per client: {engagements} engagements for {clients} clients.")
    if interactions < 0:
        raise ValueError(f"The number of interactions cannot be negative ({interactions}).")
    rng = random.Random(random_seed)
    client_docs = [_client(rng, number) for number in range(clients)]
    engagement_docs = [
        _engagement(rng, number, client_docs[number % clients], clients) for number in range(engagements)
    ]
    agents = [[_agent(rng) for _ in range(AGENTS_PER_CLIENT)] for _ in range(clients)]
    results = {
        "client": _insert(Client, [document.to_mongo().to_dict() for document in client_docs]),
        "engagement": _insert(Engagement, [document.to_mongo().to_dict() for document in engagement_docs]),
        "interaction": CollectionResult("interaction"),
    }

    rows = _interactions(rng, interactions, engagement_docs, agents)
    _load(rows, batch_size, results["interaction"], on_progress)
    if by is not None:
        classes = {"client": Client, "engagement": Engagement, "interaction": Interaction}
        record(
            by, {classes[name]: result for name, result in results.items()}, "Generated by manage.py seed --synthetic"
        )
    return results


def _interactions(rng, n, engagement_docs, agents):
    """The ``n`` interactions, one at a time: some engagements and agents much busier than others."""
    clients = len(agents)
    engagement_weights = _cumulative(rng.randint(1, 10) for _ in engagement_docs)
    agent_weights = _cumulative(rng.paretovariate(1.5) for _ in range(AGENTS_PER_CLIENT))
    hour_weights = _cumulative(HOUR_WEIGHTS)
    sentiment_weights = _cumulative(SENTIMENT_WEIGHTS)
    slots = [
        (number % clients, engagement.pk, CUSTOM_BY_CHANNEL[CHANNELS[number % len(CHANNELS)]])
        for number, engagement in enumerate(engagement_docs)
    ]
    for _ in range(n):
        client_number, engagement_id, custom = rng.choices(slots, cum_weights=engagement_weights)[0]
        first, last = rng.choices(agents[client_number], cum_weights=agent_weights)[0]
        (hour,) = rng.choices(range(24), cum_weights=hour_weights)
        day = rng.randrange(PERIOD_SECONDS // 86400)
        when = PERIOD_START + datetime.timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
        document = {
            "_id": _object_id(rng, when),
            "engagementId": engagement_id,
            "interactionDate": when,
            "agentName": f"{first} {last}",
        }
        (sentiment,) = rng.choices(SENTIMENT_CHOICES, cum_weights=sentiment_weights)
        if sentiment:
            document["sentiment"] = sentiment
        document["custom"] = custom(rng, when, first, last)
        yield document


def _batches(rows, size):
    batch = list(itertools.islice(rows, size))
    while batch:
        yield batch
        batch = list(itertools.islice(rows, size))


def _load(rows, batch_size, result, on_progress):
    """Insert ``rows`` in batches, each written (with its counts, in one transaction:
    :func:`topbox.documents.insert_new`) while the next one is generated."""
    in_flight = deque()  # (future, batch size): at most two
    done = 0

    def advance():
        nonlocal done
        future, size = in_flight.popleft()
        added, present = future.result()
        result.added += len(added)
        result.present += present
        done += size
        if on_progress:
            on_progress(done)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthetic-insert") as writer:
        for batch in _batches(rows, batch_size):
            in_flight.append((writer.submit(insert_new, Interaction, batch), len(batch)))
            if len(in_flight) > 1:
                advance()
        while in_flight:
            advance()


def _client(rng, number):
    """Every client's name and nickName differ from every other's: "Hooli Retail Inc.", "Hooli 2"."""
    company = COMPANIES[number % len(COMPANIES)]
    name, nick_name = f"{company} {SECTORS[number % len(SECTORS)]} Inc.", company
    if number >= len(COMPANIES):
        name += f" {number // len(COMPANIES) + 1}"
        nick_name += f" {number // len(COMPANIES) + 1}"
    return Client(id=_object_id(rng, PERIOD_START), name=name, nickName=nick_name)


def _engagement(rng, number, client, clients):
    """A client's engagements are told apart: its second Phone is "Phone 2"."""
    name = CHANNELS[number % len(CHANNELS)]
    # The client's k-th engagement (number = client + k * clients) has the channel
    # number % 5: the channels cycle every 5 k, or never change if clients is a multiple of 5.
    k = number // clients
    repeat = k if clients % len(CHANNELS) == 0 else k // len(CHANNELS)
    if repeat:
        name += f" {repeat + 1}"
    return Engagement(id=_object_id(rng, PERIOD_START), clientId=client, name=name)


def _agent(rng):
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _object_id(rng, when):
    """An id drawn from ``rng`` (so reproducible) whose timestamp is ``when``."""
    return ObjectId(int(when.timestamp()).to_bytes(4, "big") + rng.randbytes(8))


def _cumulative(weights):
    total, cumulative = 0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


def _insert(document_cls, documents):
    result = CollectionResult(document_cls._meta["collection"])
    added, result.present = insert_new(document_cls, documents)
    result.added = len(added)
    return result


def _phone(rng, when, first, last):
    return {
        "csvName": f"{when:%Y_%d_%m}_report.csv",
        "agentFirstName": first,
        "agentLastName": last,
        "callDurationSeconds": rng.randint(30, 3600),
        "callerRegion": rng.choice(REGIONS),
        "resolved": rng.random() < 0.7,
    }


def _chat(rng, when, first, last):
    transcript = []
    for _ in range(rng.randint(1, 3)):
        transcript.append({"from": "customer", "text": rng.choice(CUSTOMER_LINES)})
        transcript.append({"from": "agent", "text": rng.choice(AGENT_LINES)})
    return {
        "chatId": f"CH-{rng.randrange(10**7):07d}",
        "agentFirstName": first,
        "agentLastName": last,
        "transcript": transcript,
        "rating": rng.choice((None, 1, 2, 3, 4, 5)),
    }


def _sms(rng, when, first, last):
    return {
        "smsId": f"SM{rng.randrange(10**10):010d}",
        "from": f"+1555{rng.randrange(10**7):07d}",
        "body": rng.choice(CUSTOMER_LINES),
        "agentFirstName": first,
        "agentLastName": last,
        "segments": rng.randint(1, 3),
    }


def _tweet(rng, when, first, last):
    return {
        "tweetId": str(rng.randrange(10**17, 10**18)),
        "handle": f"@user{rng.randrange(10**4)}",
        "text": f"@brand {rng.choice(CUSTOMER_LINES)}",
        "retweets": int(rng.paretovariate(1.2)) - 1,
        "likes": int(rng.paretovariate(1.0)) - 1,
        "agentHandle": f"@{first.lower()}_support",
    }


def _facebook(rng, when, first, last):
    return {
        "postId": f"{rng.randrange(10**15):015d}_{rng.randrange(10**10):010d}",
        "message": rng.choice(CUSTOMER_LINES),
        "reactions": {"like": rng.randrange(100), "angry": rng.randrange(10)},
        "agentFirstName": first,
        "agentLastName": last,
    }


CUSTOM_BY_CHANNEL = {"Phone": _phone, "Chat": _chat, "SMS": _sms, "Twitter": _tweet, "Facebook": _facebook}
