"""Knative / Cloud Run entry point of the parse step (functions-framework, CloudEvent signature).

Run with: functions-framework --source functions/parse/main.py --target handle --signature-type cloudevent
"""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent

from core.context import get_context
from functions.delivery import handle_cloud_event
from functions.http import reply_empty
from functions.parse import step

# The Broker must get an empty 2xx reply (see functions/http.py).
reply_empty()


@functions_framework.cloud_event
def handle(cloud_event: CloudEvent) -> None:
    handle_cloud_event(get_context(), step.handle, cloud_event)
