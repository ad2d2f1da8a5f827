"""Fuzzing an OpenAPI document with schemathesis, the same way in-process and over HTTP."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import ignored_auth, positive_data_acceptance


def schema_operations(schema: schemathesis.schemas.BaseSchema) -> list[schemathesis.schemas.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def fuzz_operation(operation: schemathesis.schemas.APIOperation, user: str, max_examples: int) -> None:
    """Derandomised examples for one operation: no 5xx, every response as documented.

    Any well-formed X-User-ID is a valid identity (the ingress vouches for it), so the "invalid
    credentials must be refused" check does not apply; missing identity is tested apart. Schema-valid
    but meaningless input (an ontology_file that is not JSON) is rightly a 400.
    """

    @given(case=operation.as_strategy())
    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers={"X-User-ID": user}, excluded_checks=[ignored_auth, positive_data_acceptance]
        )

    fuzz()
