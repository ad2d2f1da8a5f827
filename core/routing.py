"""Which object triggers which function — declared once.

The in-process bus, the compose router and the Helm chart's Triggers all derive from :data:`ROUTES`;
a test keeps the chart identical. Each stage reads one bucket and writes the next, so no function can
trigger itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import MANIFEST, FileRef, document_key, mineru_key, pdf_key
from core.settings import Buckets


@dataclass(frozen=True)
class Route:
    function: str
    bucket: str  # logical bucket: an attribute name of Buckets
    suffix: str  # object names that end with this

    def physical_bucket(self, buckets: Buckets) -> str:
        return str(getattr(buckets, self.bucket))


ROUTES: tuple[Route, ...] = (
    Route(function="parse", bucket="pdf", suffix=".pdf"),
    Route(function="structure", bucket="mineru", suffix="/manifest.json"),
    Route(function="extract", bucket="documents", suffix="/document.json"),
)

STEP_ORDER: tuple[str, ...] = tuple(route.function for route in ROUTES)


def step_input(step: str, ref: FileRef, buckets: Buckets) -> tuple[str, str]:
    """(bucket, key) of the object whose arrival triggers ``step`` for the file ``ref``."""
    return {
        "parse": (buckets.pdf, pdf_key(ref.project_id, ref.file_id)),
        "structure": (buckets.mineru, mineru_key(ref, MANIFEST)),
        "extract": (buckets.documents, document_key(ref)),
    }[step]


def route_for(bucket: str, name: str, buckets: Buckets) -> Route | None:
    """The route an object matches, or None when no function cares about it."""
    for route in ROUTES:
        if route.physical_bucket(buckets) == bucket and name.endswith(route.suffix):
            return route
    return None


def route_of(function: str) -> Route:
    for route in ROUTES:
        if route.function == function:
            return route
    raise KeyError(function)
