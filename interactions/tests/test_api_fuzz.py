"""Schemathesis against the running app (in-process, through WSGI) over the sample data:
for every operation of the OpenAPI schema, generated requests as a staff user and as a
client user get no server error and no response that contradicts the schema."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = 25  # per operation, each sent as both users: about 15 s here


@pytest.fixture
def api_schema(seeded, db):
    from topbox.wsgi import application

    # The test's database transaction must outlive each request (as Django's test client arranges).
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/schema?format=json", application)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, django_user_model):
    from rest_framework.authtoken.models import Token

    from clients.client_users import create_client_user

    staff = django_user_model.objects.create_user("fuzz-staff", is_staff=True)
    member, _ = create_client_user("fuzz-client", "5f18d12f42262eec0d435570")
    return [Token.objects.get_or_create(user=user)[0].key for user in (staff, member)]


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_no_server_error_and_no_schema_violation(api_schema, tokens):
    failures = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def fuzz(case):
            for token in tokens:
                case.call_and_validate(
                    headers={"Authorization": f"Token {token}"},
                    checks=[not_a_server_error, response_schema_conformance],
                )

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failures, shown together
            failures[operation.label] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{message}" for label, message in failures.items())
