"""The sizes behind docs/scaling.md: interaction documents and index entries, measured.

    .venv/bin/python bench/shard_sizes.py [--interactions 20000]

Starts its own embedded server (in memory, a free port), adds synthetic interactions
(``sampledata.synthetic``: 5 clients, 50 engagements, every channel's ``custom`` payload),
then measures:

- the documents' BSON size (what MongoDB stores before block compression), and how
  much zlib level 1 shrinks them in 32 KiB blocks (WiredTiger's default, snappy,
  shrinks less: read the compressed figure as a lower bound);
- each index's entry size, built the way WiredTiger indexes store keys (MongoDB's
  KeyString: a type byte, then 12 bytes per ObjectId, 8 per date, a string's bytes and a
  terminator; descending fields inverted; a record id and about 3 bytes of cell header
  per entry), uncompressed and after prefix compression (each key stored as its suffix
  after what it shares with the previous key in index order, as WiredTiger does within
  a page);
- what ``collStats`` says, where the server answers it.

Then it scales everything to 100 million interactions.
"""

import argparse
import hashlib
import os
import statistics
import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "topbox.settings")

DATABASE = "bench_shard_sizes"
PER = 100_000_000
CELL_OVERHEAD = 3  # WiredTiger cell headers for a key and its (empty) value
RECORD_ID_BYTES = 5  # a 64-bit record id, KeyString-encoded, up to ~2^32 records
MISSING = object()

# MongoDB's KeyString type bytes (the order of BSON types in an index).
NULL, NUMBER, STRING, OBJECT_ID, DATE = 20, 43, 60, 100, 120


def encode_value(value):
    import datetime

    from bson import ObjectId

    if value is MISSING or value is None:
        return bytes([NULL])
    if isinstance(value, ObjectId):
        return bytes([OBJECT_ID]) + value.binary
    if isinstance(value, datetime.datetime):
        millis = int(value.timestamp() * 1000)
        return bytes([DATE]) + struct.pack(">Q", millis + 2**63)
    if isinstance(value, str):
        return bytes([STRING]) + value.encode().replace(b"\x00", b"\x00\xff") + b"\x00"
    if isinstance(value, bool | int | float):
        return bytes([NUMBER]) + struct.pack(">d", float(value))
    raise TypeError(f"no key encoding for {type(value).__name__}")


def lookup(document, path):
    for part in path.split("."):
        if not isinstance(document, dict) or part not in document:
            return MISSING
        document = document[part]
    return document


def index_keys(documents, spec, partial):
    """KeyString-like keys of one index (``spec``: [(field, direction)]) with record ids."""
    keys = []
    for record_id, document in enumerate(documents, start=1):
        if partial and any(lookup(document, path) is MISSING for path in partial):
            continue
        key = b""
        for path, direction in spec:
            value = lookup(document, path)
            if direction == "hashed":  # a 64-bit hash of the value, stored as a NumberLong
                encoded = bytes([NUMBER]) + hashlib.md5(repr(value).encode(), usedforsecurity=False).digest()[:8]
            else:
                encoded = encode_value(value)
            key += encoded if direction in (1, "hashed") else bytes(255 - byte for byte in encoded)
        keys.append(key + b"\x04" + record_id.to_bytes(RECORD_ID_BYTES, "big"))
    return sorted(keys)


def as_csv_row(document, number):
    custom = document.get("custom") or {}
    csv_name = custom.get("csvName", f"{document['interactionDate']:%Y_%d_%m}_report.csv")
    return {**document, "custom": {**custom, "csvName": csv_name, "csvLine": number % 5000 + 2}}


def prefix_compressed(keys):
    total, previous = 0, b""
    for key in keys:
        shared = 0
        for a, b in zip(previous, key, strict=False):
            if a != b:
                break
            shared += 1
        total += len(key) - shared + 1  # one byte says how much is shared
        previous = key
    return total / len(keys) if keys else 0


def gib(size):
    return f"{size / 2**30:,.1f} GiB"


def measure(database, count):
    import bson

    collection = database["interaction"]
    documents = list(collection.find().sort("_id", 1))
    sizes = [len(bson.encode(document)) for document in documents]
    blob = b"".join(bson.encode(document) for document in documents)
    blocks = [blob[offset : offset + 32768] for offset in range(0, len(blob), 32768)]
    compressed = sum(len(zlib.compress(block, 1)) for block in blocks)
    ratio = len(blob) / compressed

    average = statistics.fmean(sizes)
    print(f"{len(documents):,} interactions measured")
    print(
        f"BSON size per document: mean {average:,.0f} B, median {statistics.median(sizes):,.0f} B, "
        f"95th percentile {sorted(sizes)[int(len(sizes) * 0.95)]:,} B; zlib-1 in 32 KiB blocks: {ratio:.1f}x"
    )
    try:
        stats = database.command("collStats", "interaction")
    except Exception as exc:  # whatever the server says, report it
        print(f"collStats: not answered ({type(exc).__name__}: {exc})")
        stats = {}
    fields = ("count", "size", "avgObjSize", "storageSize", "totalIndexSize")
    print("collStats: " + ", ".join(f"{name} {stats[name]:,.0f}" for name in fields if name in stats))
    server_index_sizes = stats.get("indexSizes", {})

    print()
    print(f"Per {PER:,} interactions:")
    print(
        "| What | Per document: uncompressed / compressed (zlib; prefix) | Total uncompressed | Total compressed |"
        " Embedded server's collStats, per document |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        f"| documents (BSON; zlib) | {average:,.0f} B / {average / ratio:,.0f} B | {gib(average * PER)} "
        f"| {gib(average * PER / ratio)} | {stats.get('avgObjSize', 0):,.0f} B |"
    )
    indexes = [(name, info["key"], list(info.get("partialFilterExpression", {})))
               for name, info in collection.index_information().items()]  # fmt: skip
    indexes += [(name + " (to add)", spec, partial) for name, (spec, partial) in SHARD_KEY_CANDIDATES.items()]
    for name, spec, partial in indexes:
        keys = index_keys(documents, spec, partial)
        if partial and not keys:  # synthetic rows carry no CSV line numbers: as if all came from CSV files
            name += " (if every interaction came from a CSV file)"
            keys = index_keys([as_csv_row(document, n) for n, document in enumerate(documents)], spec, partial)
        share = len(keys) / len(documents)
        raw = (statistics.fmean(len(key) for key in keys) + CELL_OVERHEAD) * share if keys else 0
        small = (prefix_compressed(keys) + CELL_OVERHEAD) * share if keys else 0
        server = server_index_sizes.get(name)
        print(
            f"| {name} | {raw:.0f} B / {small:.0f} B | {gib(raw * PER)} | {gib(small * PER)} "
            f"| {f'{server / count:,.0f} B' if server else '-'} |"
        )


# Indexes docs/scaling.md weighs for sharding, not created by ensure_indexes: (spec, partial fields).
SHARD_KEY_CANDIDATES = {
    "engagementId_1_interactionDate_1__id_1": ([("engagementId", 1), ("interactionDate", 1), ("_id", 1)], []),
    "engagementId_hashed_interactionDate_1": ([("engagementId", "hashed"), ("interactionDate", 1)], []),
    "csv_row_unique, sharded": (
        [("engagementId", 1), ("interactionDate", 1), ("custom.csvName", 1), ("custom.csvLine", 1)],
        ["custom.csvLine"],
    ),
}


def main(interactions):
    import django

    from devtools.embedded import EmbeddedMongo, free_port

    with EmbeddedMongo(free_port()) as server:
        uri = server.uri + DATABASE
        os.environ["MONGO_URI"] = uri
        django.setup()
        from sampledata import synthetic
        from topbox import documents, mongo

        mongo.connect(uri)
        documents.ensure_indexes()
        synthetic.generate(clients=5, engagements=50, interactions=interactions, random_seed=1)
        measure(mongo.database(), interactions)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions", type=int, default=20_000)
    main(parser.parse_args().interactions)
