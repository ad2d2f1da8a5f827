"""LLM extraction: one request per routed category, validated, repaired, cached, budgeted, evidenced.

For each category with routed text (see :mod:`functions.extract.routing`) a worker (at most
``LLM_MAX_CONCURRENCY`` at a time) sends the stable system prefix and the category's text, validates the
JSON reply against the ontology and, while it is invalid, sends the errors back (``LLM_REPAIR_ATTEMPTS``
times). Replies come from the response cache when the identical request was made before. Every request
and cache hit is appended to ``usage``, including those of a run that fails, so spending is always
recorded. Categories without routed text cost nothing: their fields are empty with a note saying why.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from core.errors import PermanentError
from core.extraction_queries import UsageRecord
from core.ontology import Category, Field, Ontology
from core.settings import LlmSettings
from functions.extract.cache import ResponseCache, cache_key
from functions.extract.evidence import Locator
from functions.extract.llm import ChatClient
from functions.extract.prompts import messages_for, repair_prompt, system_prompt, user_prompt
from functions.extract.result import FieldResult, build_result, empty_result
from functions.extract.routing import Route, category_terms, render_context, route_document
from functions.extract.validate import FILLED, INVALID, FieldAnswer, Verdict, validate_reply

log = logging.getLogger(__name__)

EXTRACTOR_NAME = "llm"
DEFAULT_MAX_TOKENS = 4000
MAX_COMPLETION_TOKENS = 8000


class BudgetExceeded(PermanentError):
    """The file would need more tokens than ``LLM_TOKEN_BUDGET`` allows."""


class TokenBudget:
    """Tokens spent on one file. A request is refused before it is sent when what was spent plus the
    estimated prompts of requests in flight would pass the limit; so the overshoot is bounded by the
    completions of the requests already in flight."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self.requests = 0
        self._in_flight = 0
        self._lock = threading.Lock()

    def reserve(self, category: str, estimate: int) -> None:
        with self._lock:
            if self.spent + self._in_flight + estimate > self.limit:
                raise BudgetExceeded(
                    f"token budget exceeded: this file needs more than LLM_TOKEN_BUDGET={self.limit} tokens "
                    f"({self.spent} spent in {self.requests} requests; the request for '{category}' needs "
                    f"about {estimate} more). Raise LLM_TOKEN_BUDGET or use a smaller ontology, then "
                    "reprocess from 'extract'."
                )
            self._in_flight += estimate

    def settle(self, estimate: int, spent: int) -> None:
        with self._lock:
            self._in_flight -= estimate
            self.spent += spent
            self.requests += 1

    def release(self, estimate: int) -> None:
        with self._lock:
            self._in_flight -= estimate


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """A prompt's size in DeepSeek tokens, rounded up: about 0.6 per CJK character, 0.3 per other."""
    text = "".join(message["content"] for message in messages)
    cjk = sum(1 for char in text if "\u3400" <= char <= "\u9fff")
    return int(cjk * 0.6 + (len(text) - cjk) * 0.3) + 8 * len(messages) + 1


@dataclass
class _CategoryOutcome:
    verdict: Verdict
    requests: int
    records: list[UsageRecord] = field(default_factory=list)


class LlmExtractor:
    def __init__(
        self,
        client: ChatClient,
        cache: ResponseCache,
        settings: LlmSettings,
        usage: list[UsageRecord],
    ) -> None:
        self.client = client
        self.cache = cache
        self.settings = settings
        self.usage = usage
        self._usage_lock = threading.Lock()

    def extract(self, document: dict[str, Any], ontology: Ontology) -> dict[str, Any]:
        """result.json for ``document`` (see :mod:`functions.extract.result`)."""
        routes = route_document(document, ontology)
        locator = Locator(document)
        system = system_prompt(ontology)
        budget = TokenBudget(self.settings.token_budget)
        routed = [route for route in routes.values() if not route.empty]
        outcomes: dict[str, _CategoryOutcome] = {}
        with ThreadPoolExecutor(max_workers=self.settings.max_concurrency, thread_name_prefix="llm") as pool:
            futures: dict[str, Future[_CategoryOutcome]] = {
                route.category.name: pool.submit(self._category, route, document, system, budget)
                for route in routed
            }
            try:
                for name, future in futures.items():
                    outcomes[name] = future.result()
            except BaseException:
                # Stop what has not started; the requests in flight finish and their usage is kept.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        values: dict[str, dict[str, FieldResult]] = {}
        for category in ontology.categories:
            route = routes[category.name]
            if route.empty:
                terms = ", ".join(category_terms(category)[:6])
                note = f"not asked: no section heading or paragraph mentions {terms}"
                values[category.name] = {item.name: empty_result(item, note) for item in category.fields}
                continue
            values[category.name] = _field_results(category, outcomes[category.name].verdict, route, locator)
        hits = sum(1 for record in self.usage if record.cache_hit)
        metadata = {
            "extractor": EXTRACTOR_NAME,
            "model": self.client.model,
            "document_title": document.get("metadata", {}).get("title"),
            "routed_categories": len(routed),
            "llm": {
                "requests": sum(outcome.requests for outcome in outcomes.values()),
                "cache_hits": hits,
                "prompt_tokens": sum(r.prompt_tokens for r in self.usage),
                "completion_tokens": sum(r.completion_tokens for r in self.usage),
                "cached_prompt_tokens": sum(r.cached_prompt_tokens for r in self.usage),
            },
            "routing": {name: route.explain() for name, route in routes.items()},
        }
        return build_result(ontology, values, metadata)

    def _category(
        self, route: Route, document: dict[str, Any], system: str, budget: TokenBudget
    ) -> _CategoryOutcome:
        category = route.category
        title = document.get("metadata", {}).get("title")
        messages = messages_for(system, user_prompt(route, render_context(route, document), title))
        max_tokens = min(category.max_tokens or DEFAULT_MAX_TOKENS, MAX_COMPLETION_TOKENS)
        requests = 0
        verdict = Verdict()
        for attempt in range(1, self.settings.repair_attempts + 2):
            text, record = self._ask(category.name, attempt, messages, max_tokens, budget)
            requests += 0 if record.cache_hit else 1
            verdict = validate_reply(category, text)
            self._record(record, "valid" if verdict.valid else "invalid")
            if verdict.valid:
                break
            log.info("%s: invalid answer (attempt %d): %s", category.name, attempt, "; ".join(verdict.errors))
            messages = [
                *messages,
                {"role": "assistant", "content": text},
                {"role": "user", "content": repair_prompt(verdict.errors)},
            ]
        return _CategoryOutcome(verdict, requests)

    def _ask(
        self,
        category: str,
        attempt: int,
        messages: list[dict[str, str]],
        max_tokens: int,
        budget: TokenBudget,
    ) -> tuple[str, UsageRecord]:
        key = cache_key(self.client.model, messages, max_tokens)
        cached = self.cache.get(key)
        if cached is not None:
            return cached, UsageRecord(category, attempt, self.client.model, True, 0, 0, 0, 0, "valid")
        estimate = estimate_tokens(messages)
        budget.reserve(category, estimate)
        try:
            completion = self.client.complete(messages, max_tokens=max_tokens)
        except BaseException:
            budget.release(estimate)
            self._record(
                UsageRecord(category, attempt, self.client.model, False, 0, 0, 0, None, "error"), "error"
            )
            raise
        budget.settle(estimate, completion.prompt_tokens + completion.completion_tokens)
        usage = {
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "cached_prompt_tokens": completion.cached_prompt_tokens,
        }
        self.cache.put(key, completion.model, completion.text, usage)
        record = UsageRecord(
            category=category,
            attempt=attempt,
            model=completion.model,
            cache_hit=False,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cached_prompt_tokens=completion.cached_prompt_tokens,
            latency_ms=completion.latency_ms,
            outcome="valid",
        )
        return completion.text, record

    def _record(self, record: UsageRecord, outcome: str) -> None:
        with self._usage_lock:
            self.usage.append(
                UsageRecord(
                    record.category,
                    record.attempt,
                    record.model,
                    record.cache_hit,
                    record.prompt_tokens,
                    record.completion_tokens,
                    record.cached_prompt_tokens,
                    record.latency_ms,
                    outcome,
                )
            )


def _field_results(
    category: Category, verdict: Verdict, route: Route, locator: Locator
) -> dict[str, FieldResult]:
    results: dict[str, FieldResult] = {}
    for item in category.fields:
        answer = verdict.answers.get(item.name)
        if answer is None:
            note = "; ".join(verdict.errors) or "no answer"
            results[item.name] = FieldResult(None, INVALID, [], f"the model's reply stayed unusable: {note}")
            continue
        results[item.name] = _field_result(item, answer, route, locator)
    return results


def _field_result(item: Field, answer: FieldAnswer, route: Route, locator: Locator) -> FieldResult:
    evidence = locator.locate_all(answer.quotes, route.block_ids)
    if answer.status != FILLED:
        return FieldResult(answer.value, answer.status, evidence, answer.note)
    value = answer.value
    note = None
    if isinstance(value, str) and (
        item.extraction_strategy == "copy_exact" or not any(e.verified for e in evidence)
    ):
        # A copied value must be source text: found verbatim (preferably where its quote is), it takes the
        # source's exact characters; otherwise a copy_exact value becomes its located quote.
        prefer = [e.block_id for e in evidence if e.block_id] + list(route.block_ids)
        located = locator.locate(value, prefer)
        if located.verified:
            value = located.source_text if item.extraction_strategy == "copy_exact" else value
            if not any(e.verified for e in evidence):
                evidence = [located]
                note = "the quote was not found in the document; the value itself was"
        elif item.extraction_strategy == "copy_exact" and evidence and evidence[0].verified:
            value = evidence[0].source_text
    if not evidence:
        note = "the model gave no quote"
    elif not all(e.verified for e in evidence):
        note = "a quote was not found in the document"
    return FieldResult(value, FILLED, evidence, note)
