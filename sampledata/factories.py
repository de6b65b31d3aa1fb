"""Small builders for test data, shared by every app's tests."""

import datetime
import json

from bson import ObjectId

from clients.documents import Client
from engagements.documents import Engagement
from interactions.documents import Interaction
from topbox.documents import insert_new


def make_client(name="Acme Footwear Inc.", nickName="Acme"):
    return Client(name=name, nickName=nickName).save()


def make_engagement(client=None, name="Phone"):
    return Engagement(clientId=client or make_client(), name=name).save()


def make_interaction(engagement=None, when=None, agentName="John Ford", sentiment="Negative", custom=None):
    return Interaction(
        engagementId=engagement or make_engagement(),
        interactionDate=when or datetime.datetime(2020, 5, 16, 12, tzinfo=datetime.UTC),
        agentName=agentName,
        sentiment=sentiment,
        custom={"csvName": "2020_16_05_report.csv"} if custom is None else custom,
    ).save()


def insert_interactions(rows):
    """Interactions stored by one bulk insert and counted (interactions.counts), as ingest stores
    them (much faster than one ``save()`` each): ``rows`` of ``(engagement, when, agentName,
    sentiment)``; a ``when`` of None is stored without a date. Returns the raw documents."""
    documents = []
    for engagement, when, agent_name, sentiment in rows:
        interaction = Interaction(engagementId=engagement, interactionDate=when, agentName=agent_name,
                                  sentiment=sentiment, custom={})  # fmt: skip
        documents.append({"_id": ObjectId(), **interaction.to_mongo().to_dict()})
    insert_new(Interaction, documents)
    return documents


def interaction_form(interaction, **changes):
    """What the admin's change form of ``interaction`` posts, with ``changes``."""
    return {
        "engagementId": str(interaction.engagementId.pk),
        "interactionDate_0": interaction.interactionDate.strftime("%Y-%m-%d"),
        "interactionDate_1": interaction.interactionDate.strftime("%H:%M:%S"),
        "agentName": interaction.agentName,
        "sentiment": interaction.sentiment or "",
        "custom": json.dumps(interaction.custom),
        **changes,
    }
