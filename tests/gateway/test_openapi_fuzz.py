"""The OpenAPI document is fuzzed with schemathesis: no input produces a 5xx or an undocumented shape."""

from __future__ import annotations

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import ignored_auth, positive_data_acceptance

from tests.gateway.conftest import Api, make_project


def test_no_server_errors_and_documented_responses(app: Flask) -> None:
    # A real project owned by the fuzzing user, so some generated requests reach the handlers' logic.
    make_project(Api(app.test_client(), "fuzzer"))
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        def fuzz(case: schemathesis.Case) -> None:
            # Any well-formed X-User-ID is a valid identity (the ingress vouches for it), so the
            # "invalid credentials must be refused" check does not apply; missing identity is tested apart.
            # Schema-valid but meaningless input (an ontology_file that is not JSON) is rightly a 400.
            case.call_and_validate(
                headers={"X-User-ID": "fuzzer"}, excluded_checks=[ignored_auth, positive_data_acceptance]
            )

        fuzz()
