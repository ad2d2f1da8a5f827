"""The chat-completions client (DeepSeek or any OpenAI-compatible API); the only module importing openai.

* JSON output mode (``response_format={"type": "json_object"}``), temperature 0.
* The SDK's own retries are off; tenacity retries 429, 5xx, timeouts and connection errors up to
  ``LLM_MAX_ATTEMPTS`` times, waiting what ``Retry-After`` asks (capped) or an exponential backoff.
* Still failing after that → :class:`~core.errors.TransientError` (the event is redelivered later);
  a request the API refuses (400, 401, 403, 404, 422) → :class:`LlmRejected`, permanent.
* Usage is read from the response: prompt/completion tokens and the prompt tokens served from the
  provider's prefix cache (DeepSeek ``prompt_cache_hit_tokens``, OpenAI ``prompt_tokens_details``).
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from core.errors import PermanentError, TransientError
from core.settings import LlmSettings

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 60.0
_REJECTED = (400, 401, 403, 404, 409, 413, 422)


class LlmRejected(PermanentError):
    """The API refused the request itself (bad key, unknown model, malformed request)."""


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    latency_ms: int
    finish_reason: str | None
    attempts: int


class ChatClient:
    """A thread-safe client; ``requests`` counts HTTP requests actually sent (retries included)."""

    def __init__(self, settings: LlmSettings) -> None:
        if not settings.api_key:
            raise PermanentError("no LLM API key configured (DEEPSEEK_API_KEY)")
        self.settings = settings
        self.model = settings.model
        self._client = openai.OpenAI(
            api_key=settings.api_key, base_url=settings.api_base, timeout=settings.timeout, max_retries=0
        )
        self._lock = threading.Lock()
        self.requests = 0

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int) -> Completion:
        """One chat completion in JSON mode, retried on transient failures (see the module docstring)."""
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            wait=_wait,
            stop=stop_after_attempt(self.settings.max_attempts),
            reraise=True,
            before_sleep=_log_retry,
        )
        attempts = 0
        started = time.monotonic()
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    with self._lock:
                        self.requests += 1
                    response = self._client.chat.completions.create(
                        model=self.model,
                        messages=cast("list[ChatCompletionMessageParam]", messages),
                        response_format={"type": "json_object"},
                        temperature=0,
                        max_tokens=max_tokens,
                    )
        except openai.APIStatusError as exc:
            if exc.status_code in _REJECTED:
                raise LlmRejected(
                    f"the LLM API refused the request (HTTP {exc.status_code}): {_message(exc)}; "
                    "check DEEPSEEK_API_KEY, DEEPSEEK_API_BASE and LLM_MODEL"
                ) from None
            raise TransientError(
                f"LLM API failed {attempts} times, last with HTTP {exc.status_code}"
            ) from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise TransientError(f"LLM API unreachable after {attempts} attempts: {exc}") from exc
        latency_ms = int((time.monotonic() - started) * 1000)
        return _completion(response, self.model, latency_ms, attempts)

    def close(self) -> None:
        self._client.close()


def _completion(response: Any, model: str, latency_ms: int, attempts: int) -> Completion:
    choice = response.choices[0] if response.choices else None
    text = (choice.message.content if choice is not None else None) or ""
    usage = response.usage
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    cached = getattr(usage, "prompt_cache_hit_tokens", None)  # DeepSeek's extension
    if cached is None:
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", 0) if details is not None else 0
    return Completion(
        text=text,
        model=str(response.model or model),
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_prompt_tokens=int(cached or 0),
        latency_ms=latency_ms,
        finish_reason=getattr(choice, "finish_reason", None),
        attempts=attempts,
    )


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError)):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


_backoff = wait_exponential_jitter(initial=0.5, max=20.0)


def _wait(state: RetryCallState) -> float:
    """What the server's Retry-After asks for (seconds or an HTTP date, capped), else exponential backoff."""
    exc = state.outcome.exception() if state.outcome is not None else None
    if isinstance(exc, openai.APIStatusError):
        asked = retry_after(exc.response.headers)
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER)
    return float(_backoff(state))


def retry_after(headers: Any) -> float | None:
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    sleep = state.next_action.sleep if state.next_action is not None else 0
    log.warning("LLM request attempt %d failed (%s); retrying in %.1fs", state.attempt_number, exc, sleep)


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(exc.message)
