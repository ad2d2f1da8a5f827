"""The one lock around every pdfium call in a process.

pdfium is not thread-safe, and one process can hold several callers: in embedded mode the parse step's PDF
check and the structure step's line reader run on different bus threads, and functions-framework may run a
service's handlers on several threads. Two calls at once crash the whole process.
"""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.Lock()
