"""The OpenAPI document is fuzzed with schemathesis: no input produces a 5xx or an undocumented shape."""

from __future__ import annotations

import schemathesis
from flask import Flask

from tests.fuzzing import fuzz_operation, schema_operations
from tests.gateway.conftest import Api, make_project


def test_no_server_errors_and_documented_responses(app: Flask) -> None:
    # A real project owned by the fuzzing user, so some generated requests reach the handlers' logic.
    make_project(Api(app.test_client(), "fuzzer"))
    ops = schema_operations(schemathesis.openapi.from_wsgi("/api/schema/", app))
    assert len(ops) >= 12
    for operation in ops:
        fuzz_operation(operation, "fuzzer", max_examples=20)
