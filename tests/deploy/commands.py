"""The exact commands that start each service: the tests run these and the Dockerfile must use them."""

from __future__ import annotations

FUNCTIONS_FRAMEWORK = ["functions-framework", "--target", "handle"]

COMMANDS: dict[str, list[str]] = {
    # gunicorn binds 0.0.0.0:$PORT when no --bind is given, which is what Knative and compose set.
    # --keep-alive outlasts the idle timeout of the proxy in front (queue-proxy, ingress: Go's 90 s): with
    # gunicorn's 2 s default the proxy reuses connections the gateway is closing and some requests fail
    # (bench/gateway.py saw 1–5 ConnectionErrors in 6600 requests after idle gaps of a few seconds).
    "gateway": [
        *["gunicorn", "--threads", "8", "--timeout", "120", "--keep-alive", "120"],
        "gateway:create_app()",
    ],
    "source": [*FUNCTIONS_FRAMEWORK, "--source", "functions/source/main.py", "--signature-type", "http"],
    "router": [*FUNCTIONS_FRAMEWORK, "--source", "functions/router/main.py", "--signature-type", "http"],
    "parse": [*FUNCTIONS_FRAMEWORK, "--source", "functions/parse/main.py", "--signature-type", "cloudevent"],
    "structure": [
        *FUNCTIONS_FRAMEWORK,
        "--source",
        "functions/structure/main.py",
        "--signature-type",
        "cloudevent",
    ],
    "extract": [
        *FUNCTIONS_FRAMEWORK,
        "--source",
        "functions/extract/main.py",
        "--signature-type",
        "cloudevent",
    ],
    "migrate": ["python", "-m", "pdfonto.cli", "migrate"],
}
