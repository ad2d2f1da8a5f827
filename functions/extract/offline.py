"""Offline extraction: fill an ontology from a ``document.json`` with keyword heuristics, no LLM.

Used when no LLM is configured, and as a baseline. The result is built like the LLM extractor's (see
:mod:`functions.extract.result`): the original shape plus evidence with block id and character span, a
status per field and, for every field left empty, a note saying why.

How a value is found:

* The document is cut into sentences (on 。；;！？!? and on a full stop followed by a space); page furniture
  and headings are not evidence. Table rows count as sentences.
* A category is routed to the sections whose heading contains one of its keywords (or its name), with
  their subsections. Sentences there get a bonus; sentences elsewhere are still eligible.
* A field's terms are its ``keywords`` plus its name without numbering (``3.1``) or parentheticals, split on
  generic words (名称, 情况, 是否 …). A sentence qualifies when it contains at least one term; the best scores
  by distinct terms, category keywords, routing, then document order.
* Parties come first: role statements (``建设单位X，施工单位Y，专业分包单位Z，监理单位W``), ``X，法定代表人Y``
  and responsibility statements (see :mod:`functions.extract.parties`) answer name fields whose name or
  category names a role; such a field stays empty rather than take another party's name.
* Per strategy: copy_exact/extract_format → the best sentence, narrowed to a date, count, amount, region or
  labelled name (``法定代表人边立宾`` → ``边立宾``) when the field asks for one; classify_with_options → the
  option whose text or ``option_keywords`` occur most, yes/no options by whether a non-negated term occurs,
  else the first option (unverified, with a note); structured strategies → one value per subfield;
  summaries → the
  top sentences in document order; lists → every qualifying sentence.
* Nothing found → value ``""`` (``[]`` for lists), status ``empty`` and a note with the reason.

Deterministic and pure: the same document and ontology always give the same result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.ontology import Category, Field, Ontology
from functions.extract.evidence import Evidence, Locator
from functions.extract.parties import ROLE_LABELS, Mention, Parties, find_parties
from functions.extract.result import FieldResult, build_result
from functions.extract.validate import EMPTY, FILLED, chinese_integer
from functions.structure.blocks import FURNITURE_TYPES

EXTRACTOR_NAME = "offline"
SUMMARY_SENTENCES = 3
LIST_ITEMS = 8

_SENTENCE_END = re.compile(r"(?<=[。；;！？!?])|(?<=\.)(?=\s)|\n+")
_NUMBER_PREFIX = re.compile(r"^[\d.．、\s]+")
_PARENTHETICAL = re.compile(r"（[^）]*）|\([^)]*\)")
_GENERIC_WORDS = re.compile(r"名称|情况|是否|有无|及其|以及|及|和|与|的|、|/|，|,|\s")
_CN_NUMBER = "零〇一二两三四五六七八九十百"
_NUMBER = rf"\d+|[{_CN_NUMBER}]+"
_DATE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"(?:\s*(?:凌晨|早上|上午|中午|下午|傍晚|晚上|夜间)?\s*\d{1,2}\s*[时点](?:\s*\d{1,2}\s*分)?(?:许|左右)?)?"
)
_TIME_ONLY = re.compile(
    r"(?:凌晨|早上|上午|中午|下午|傍晚|晚上|夜间)?\s*\d{1,2}\s*[时点]\s*\d{1,2}\s*分(?:许|左右)?"
)
_MONEY = re.compile(r"(?:约|共计|合计)?\s*\d+(?:\.\d+)?\s*(?:亿元|万元|元)")
_PROVINCE = re.compile(r"[\u4e00-\u9fff]{2,7}?(?:省|自治区)|北京市|天津市|上海市|重庆市")
_CITY = re.compile(r"[\u4e00-\u9fff]{2}市")
_DISTRICT = re.compile(r"[\u4e00-\u9fff]{2,4}?[区县](?:[\u4e00-\u9fff]{2,6}?(?:街道|镇|乡))?")
_LEADING_FUNCTION_WORDS = re.compile(r"^(?:位于|在|于|至|从|由|为)")
_LABEL_GLUE = r"\s*(?:为|是|：|:)?\s*"
_LABEL_VALUE = r"([^，。；;,、（(：:\s][^，。；;,、（(：:]{1,39})"
_SHORT_NAME = re.compile(r"“[\d.．·•、]+”")
_ORG_SUFFIX = re.compile(r"(?:有限责任公司|有限公司|公司|集团|中心|研究院|设计院|院|局|委员会|委|所|站|队)$")
_PERSON_LABEL = ("人", "经理", "工程师", "总监", "班组长", "负责人", "代表人")
_ENTITY_STOP = r"，。；;,、：:“”《》（）()\s"
_NAME_SUFFIXES = ("人", "经理", "工程师", "总监", "机构", "单位")
_NEGATIONS = ("未", "无", "不存在", "没有", "不", "非")
_YES_NO = ({"是", "否"}, {"有", "无"})


@dataclass(frozen=True)
class Sentence:
    """One piece of evidence: a sentence with the block it came from and its enclosing sections."""

    text: str
    order: int
    block: dict[str, Any]
    sections: frozenset[str]


@dataclass(frozen=True)
class Found:
    """An extracted value with the sentence that supports it (None when nothing was found)."""

    value: Any
    evidence: Sentence | None
    note: str | None = None


def extract_offline(document: dict[str, Any], ontology: Ontology) -> dict[str, Any]:
    """Fill every field of ``ontology`` from ``document`` (a ``document.json`` dict) with keyword heuristics.

    Returns result.json (see :mod:`functions.extract.result`); see the module docstring for the rules.
    """
    sentences = split_sentences(document)
    parties = find_parties(sentence.text for sentence in sentences)
    locator = Locator(document)
    values: dict[str, dict[str, FieldResult]] = {}
    for category in ontology.categories:
        routed = _routed_sections(document, category)
        context = _Context(sentences, routed, _category_terms(category), category, parties)
        values[category.name] = {
            item.name: _field_result(item, _extract_field(item, context), context, locator)
            for item in category.fields
        }
    metadata = {
        "extractor": EXTRACTOR_NAME,
        "document_title": document.get("metadata", {}).get("title"),
        "sentence_count": len(sentences),
    }
    return build_result(ontology, values, metadata)


def split_sentences(document: dict[str, Any]) -> list[Sentence]:
    """The document's evidence sentences in reading order: the title first, then body text (no furniture,
    no headings)."""
    ancestry = _section_ancestry(document.get("sections", []))
    sentences: list[Sentence] = []
    title = document.get("metadata", {}).get("title")
    first_heading = next((b for b in document.get("blocks", []) if b.get("type") == "heading"), None)
    if title and first_heading is not None:
        sentences.append(Sentence(title, 0, first_heading, frozenset()))
    for block in document.get("blocks", []):
        if block.get("type") in FURNITURE_TYPES or block.get("type") == "heading":
            continue
        section_path = ancestry.get(block.get("section_id") or "", frozenset())
        for piece in _block_pieces(block):
            sentences.append(Sentence(piece, len(sentences), block, section_path))
    return sentences


def field_terms(item: Field) -> tuple[str, ...]:
    """Search terms of a field: its keywords, then the meaningful parts of its name."""
    name = _PARENTHETICAL.sub("", _NUMBER_PREFIX.sub("", item.name))
    parts = [part for part in _GENERIC_WORDS.split(name) if len(part) >= 2]
    return _unique([*item.keywords, *parts])


# --- sentences and routing ------------------------------------------------------------------------


def _section_ancestry(sections: list[dict[str, Any]]) -> dict[str, frozenset[str]]:
    parents = {section["id"]: section.get("parent_id") for section in sections}
    ancestry: dict[str, frozenset[str]] = {}
    for section_id in parents:
        chain: list[str] = []
        current: str | None = section_id
        while current is not None and current not in chain:
            chain.append(current)
            current = parents.get(current)
        ancestry[section_id] = frozenset(chain)
    return ancestry


def _block_pieces(block: dict[str, Any]) -> list[str]:
    texts = [block.get("caption", ""), block.get("text", ""), block.get("footnote", "")]
    pieces = [piece for text in texts if text for piece in _split_text(text)]
    if block.get("type") == "table" and block.get("html"):
        pieces.extend(_table_rows(block["html"]))
    return pieces


def _split_text(text: str) -> list[str]:
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece and piece.strip()]


def _table_rows(html: str) -> list[str]:
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S | re.I):
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        line = " | ".join(cell for cell in cells if cell)
        if line:
            rows.append(line)
    return rows


def _category_terms(category: Category) -> tuple[str, ...]:
    name = _PARENTHETICAL.sub("", _NUMBER_PREFIX.sub("", category.name))
    keywords = [_PARENTHETICAL.sub("", _NUMBER_PREFIX.sub("", word)) for word in category.keywords]
    return _unique([word for word in [*keywords, name] if len(word) >= 2])


def _routed_sections(document: dict[str, Any], category: Category) -> frozenset[str]:
    terms = _category_terms(category)
    return frozenset(
        section["id"]
        for section in document.get("sections", [])
        if any(term in f"{section.get('numbering', '')}{section.get('title', '')}" for term in terms)
    )


class _Context:
    """Sentences and routing for one category; ranks sentences for a field's terms."""

    def __init__(
        self,
        sentences: list[Sentence],
        routed: frozenset[str],
        category_terms: tuple[str, ...],
        category: Category,
        parties: Parties,
    ):
        self.sentences = sentences
        self.routed = routed
        self.category_terms = category_terms
        self.category = category
        self.parties = parties
        self.party_markers = _party_markers(category, parties)

    def mentions_category(self, sentence: Sentence) -> bool:
        return any(term in sentence.text for term in self.category_terms)

    def about_party(self, sentence: Sentence) -> bool:
        """Whether the sentence, or the paragraph it sits in, names this category's party.

        "资质" or "安全管理" describe whichever party the text is about, so only such sentences can
        answer a party's fields; a company's own paragraph counts for all its sentences.
        """
        paragraph = str(sentence.block.get("text", ""))
        return any(marker in sentence.text or marker in paragraph for marker in self.party_markers)

    def in_route(self, sentence: Sentence) -> bool:
        return bool(self.routed & sentence.sections)

    def ranked(self, terms: tuple[str, ...]) -> list[Sentence]:
        """Sentences containing at least one of ``terms``, best first."""
        scored = []
        for sentence in self.sentences:
            hits = sum(1 for term in terms if term in sentence.text)
            if not hits:
                continue
            if self.party_markers and not self.about_party(sentence):
                continue
            context_hits = sum(1 for term in self.category_terms if term in sentence.text)
            score = 3.0 * hits + 0.5 * context_hits + (2.0 if self.in_route(sentence) else 0.0)
            scored.append((-score, sentence.order, sentence))
        scored.sort(key=lambda entry: (entry[0], entry[1]))
        return [sentence for _, _, sentence in scored]

    def scope(self) -> list[Sentence]:
        """The routed sentences, or every sentence when no section matched the category."""
        routed = [sentence for sentence in self.sentences if self.in_route(sentence)]
        return routed or self.sentences


# --- strategies -----------------------------------------------------------------------------------


def _extract_field(item: Field, context: _Context) -> Found:
    party = _party_value(item, context)
    if party is not None:
        return party
    strategy = item.extraction_strategy
    if strategy == "structured_extract" and item.subfields:
        return _structured(item, context)
    if strategy in ("structured_list_extract", "cross_chunk_structured_list_extract") and item.subfields:
        return _structured_list(item, context)
    if strategy == "classify_with_options" and item.options:
        return _classify(item, context)
    if strategy in ("list_extract", "cross_chunk_list_extract"):
        return _list(item, context)
    if strategy == "cross_chunk_summarize":
        return _summary(item, context)
    if strategy == "copy_section":
        return _section_copy(item, context)
    ranked = context.ranked(field_terms(item))
    if _value_kind(item) == "label" and not _names_a_party(item, context):
        ranked = [sentence for sentence in ranked if context.mentions_category(sentence)]
    return _single_value(item, ranked)


def _names_a_party(item: Field, context: _Context) -> bool:
    """``建设单位名称`` says whose name it wants; ``法定代表人`` could belong to any party, so its sentence
    must also mention the category."""
    terms = field_terms(item)
    own = any(term.endswith(("单位", "机构", "公司", "中心")) for term in terms)
    return own or any(word in term for term in terms for word in context.category_terms)


def _single_value(item: Field, ranked: list[Sentence]) -> Found:
    """copy_exact / extract_format: a typed value when the field asks for one, else the best sentence."""
    pattern_kind = _value_kind(item)
    for sentence in ranked:
        value = _typed_value(pattern_kind, item, sentence.text)
        if value is not None:
            return Found(value, sentence)
    if pattern_kind in ("date", "count", "money", "region", "short_name", "label"):
        return Found("", None)
    return Found(ranked[0].text, ranked[0]) if ranked else Found("", None)


def _structured(item: Field, context: _Context) -> Found:
    values: dict[str, Any] = {}
    evidence: Sentence | None = None
    for sub in item.subfields:
        found = _extract_field(sub, context)
        values[sub.name] = found.value
        evidence = evidence or found.evidence
    return Found(values, evidence)


def _structured_list(item: Field, context: _Context) -> Found:
    items: list[dict[str, Any]] = []
    evidence: list[Sentence] = []
    for sentence in context.ranked(field_terms(item))[:LIST_ITEMS]:
        entry = {sub.name: _value_in_sentence(sub, sentence) for sub in item.subfields}
        if any(value not in ("", None) for value in entry.values()):
            items.append(entry)
            evidence.append(sentence)
    return Found(items, evidence[0] if evidence else None)


def _value_in_sentence(item: Field, sentence: Sentence) -> Any:
    if item.extraction_strategy == "classify_with_options" and item.options:
        matches = [
            option
            for option in item.options
            if any(word in sentence.text for word in item.option_synonyms(option))
        ]
        return matches[0] if matches else ""
    kind = _value_kind(item)
    if kind == "text":
        clauses = [clause for clause in re.split(r"[，。；;,]", sentence.text) if clause.strip()]
        return next((c.strip() for c in clauses if any(term in c for term in field_terms(item))), "")
    value = _typed_value(kind, item, sentence.text)
    return "" if value is None else value


def _classify(item: Field, context: _Context) -> Found:
    if _is_yes_no(item.options):
        return _classify_yes_no(item, context)
    for scope in (context.scope(), context.sentences):
        found = _best_option(item, scope, context.sentences)
        if found.evidence is not None:
            return found
    return Found(item.options[0], None)


def _best_option(item: Field, scope: list[Sentence], everything: list[Sentence]) -> Found:
    """The option mentioned in most ``scope`` sentences (ties: most mentions anywhere, then option order)."""
    best: tuple[int, int] = (0, 0)
    chosen = Found(item.options[0], None)
    for option in item.options:
        synonyms = item.option_synonyms(option)
        hits = [s for s in scope if any(word in s.text for word in synonyms)]
        everywhere = sum(s.text.count(word) for s in everything for word in synonyms)
        if hits and (len(hits), everywhere) > best:
            best = (len(hits), everywhere)
            chosen = Found(option, hits[0])
    return chosen


def _classify_yes_no(item: Field, context: _Context) -> Found:
    yes, no = _yes_no_pair(item.options)
    for sentence in context.ranked(field_terms(item)):
        for term in field_terms(item):
            position = sentence.text.find(term)
            if position < 0:
                continue
            negated = any(
                sentence.text[max(0, position - 4) : position].endswith(word) for word in _NEGATIONS
            )
            return Found(no if negated else yes, sentence)
    return Found(item.options[0], None)


def _summary(item: Field, context: _Context) -> Found:
    ranked = context.ranked(field_terms(item))
    routed = [sentence for sentence in ranked if context.in_route(sentence)]
    chosen = sorted((routed or ranked)[:SUMMARY_SENTENCES], key=lambda sentence: sentence.order)
    if not chosen:
        return Found("", None)
    return Found("".join(sentence.text for sentence in chosen), chosen[0])


def _list(item: Field, context: _Context) -> Found:
    ranked = context.ranked(field_terms(item))[:LIST_ITEMS]
    chosen = sorted(ranked, key=lambda sentence: sentence.order)
    return Found([sentence.text for sentence in chosen], chosen[0] if chosen else None)


def _section_copy(item: Field, context: _Context) -> Found:
    ranked = context.ranked(field_terms(item))
    if not ranked:
        return Found("", None)
    best = ranked[0]
    same_block = [s for s in context.sentences if s.block is best.block]
    return Found("".join(sentence.text for sentence in same_block), best)


# --- typed values ---------------------------------------------------------------------------------


def _value_kind(item: Field) -> str:
    """What kind of literal the field wants: date, count, money, region, label or text."""
    name = _PARENTHETICAL.sub("", _NUMBER_PREFIX.sub("", item.name))
    wording = f"{item.name}{item.description}"
    if item.type == "date" or any(word in name for word in ("时间", "日期")):
        return "date"
    if item.type in ("integer", "number") or name.endswith(("人数", "数量")):
        return "count"
    if any(word in name for word in ("损失", "金额", "罚款")) or "万元" in wording:
        return "money"
    if name in ("省份", "省", "城市", "市", "区县", "区", "县"):
        return "region"
    if "简称" in name:
        return "short_name"
    names_party = name.endswith("名称") and any(word in name for word in ("单位", "机构", "公司"))
    if names_party or name.endswith(_NAME_SUFFIXES):
        return "label"
    return "text"


def _typed_value(kind: str, item: Field, text: str) -> Any:
    """The literal of ``kind`` in ``text`` (None when absent); plain text fields take the whole sentence."""
    if kind == "date":
        match = _DATE.search(text) or _TIME_ONLY.search(text)
        return match.group(0).strip() if match else None
    if kind == "count":
        return _count(field_terms(item), text)
    if kind == "money":
        match = _MONEY.search(text)
        return match.group(0).strip() if match else None
    if kind == "region":
        return _region(item.name, text)
    if kind == "label":
        return _labelled(field_terms(item), text) or _entity_around(field_terms(item), text)
    if kind == "short_name":
        match = _SHORT_NAME.search(text)
        return match.group(0) if match else None
    return text


def _count(terms: tuple[str, ...], text: str) -> int | None:
    for term in terms:
        escaped = re.escape(term)
        for pattern in (rf"({_NUMBER})\s*[人名]?\s*{escaped}", rf"{escaped}\s*({_NUMBER})\s*[人名]"):
            match = re.search(pattern, text)
            if match:
                return chinese_integer(match.group(1))
    return None


def _region(name: str, text: str) -> str | None:
    pattern = _PROVINCE if "省" in name else _CITY if "市" in name else _DISTRICT
    for match in pattern.finditer(text):
        value = _LEADING_FUNCTION_WORDS.sub("", match.group(0))
        if len(value) >= 2:
            return value
    return None


def _labelled(terms: tuple[str, ...], text: str) -> str | None:
    """The name right after a label: ``建设单位北京市轨道交通建设管理有限公司`` → the company,
    ``法定代表人边立宾`` → the person. Only organisation-like or person-like values count."""
    for term in terms:
        for match in re.finditer(re.escape(term) + _LABEL_GLUE + _LABEL_VALUE, text):
            value = match.group(1).strip()
            if _looks_like_name(term, value):
                return value
    return None


def _looks_like_name(label: str, value: str) -> bool:
    suffix = _ORG_SUFFIX.search(value)
    if suffix:
        return suffix.start() >= 2
    person = re.fullmatch(r"[\u4e00-\u9fff]{2,4}", value) is not None
    return person and label.endswith(_PERSON_LABEL)


def _entity_around(terms: tuple[str, ...], text: str) -> str | None:
    """An organisation named by a term that is itself an organisation type (``…鉴定中心``), widened to the
    left up to the previous punctuation."""
    for term in terms:
        if not _ORG_SUFFIX.search(term):
            continue
        match = re.search(rf"[^{_ENTITY_STOP}]*{re.escape(term)}", text)
        if match and len(match.group(0)) > len(term):
            return match.group(0)
    return None


# --- parties ----------------------------------------------------------------------------------------------

_RESPONSIBLE_FIELDS = {"直接责任人": "direct", "主要责任人": "principal"}
_PROJECT_FIELDS = ("项目名称", "工程名称")


def _party_value(item: Field, context: _Context) -> Found | None:
    """A value from the party statements, or None when the field is not about a named party."""
    name = _PARENTHETICAL.sub("", _NUMBER_PREFIX.sub("", item.name))
    parties = context.parties
    if name in _RESPONSIBLE_FIELDS:
        mentions = parties.responsible.get(_RESPONSIBLE_FIELDS[name], [])
        if not mentions:
            return Found("", None, "no sentence gives a person this responsibility (负有…责任)")
        return _from_mentions(mentions, context)
    if name in _PROJECT_FIELDS and parties.project is not None:
        return _from_mentions([parties.project], context)
    if item.type not in ("string",) or item.subfields or item.options:
        return None
    role = _role_of(name) or _role_of(_PARENTHETICAL.sub("", _NUMBER_PREFIX.sub("", context.category.name)))
    if role is None:
        return None
    label = next(word for word, value in ROLE_LABELS.items() if value == role)
    if "法定代表人" in name:
        organisation = parties.first(role)
        if organisation is None:
            return Found("", None, f"no statement names the {label}, so its legal representative is unknown")
        representative = parties.legal_representatives.get(organisation.value)
        if representative is None:
            return Found("", None, f"the report names no legal representative of {organisation.value}")
        return _from_mentions([representative], context)
    if _value_kind(item) == "label" and not name.endswith(("人", "经理", "工程师", "总监")):
        mentions = parties.roles.get(role, [])
        if not mentions:
            return Found("", None, f"no statement of the form '{label}<name>' in the report")
        return _from_mentions(mentions, context)
    return None


# Role stems specific enough to mark a sentence as being about that party ("施工", "建设" are not).
_ROLE_STEMS = {"supervisor": "监理", "surveyor": "勘察", "designer": "设计", "lessor": "租赁"}


def _party_markers(category: Category, parties: Parties) -> tuple[str, ...]:
    """Words showing a sentence is about the party a category describes; empty for other categories."""
    role = _role_of(_PARENTHETICAL.sub("", _NUMBER_PREFIX.sub("", category.name)))
    if role is None:
        return ()
    labels = [label for label, value in ROLE_LABELS.items() if value == role]
    names = [mention.value for mention in parties.roles.get(role, [])]
    stem = [_ROLE_STEMS[role]] if role in _ROLE_STEMS else []
    return _unique([*labels, *names, *stem])


def _role_of(name: str) -> str | None:
    for label in sorted(ROLE_LABELS, key=len, reverse=True):
        if label in name:
            return ROLE_LABELS[label]
    return None


def _from_mentions(mentions: list[Mention], context: _Context) -> Found:
    value = "、".join(mention.value for mention in mentions)
    return Found(value, context.sentences[mentions[0].index])


# --- result helpers -------------------------------------------------------------------------------


def _field_result(item: Field, found: Found, context: _Context, locator: Locator) -> FieldResult:
    empty = found.value in ("", None, [], {}) or (
        isinstance(found.value, dict) and all(v in ("", None, [], {}) for v in found.value.values())
    )
    if empty:
        return FieldResult([] if item.multiple else "", EMPTY, [], found.note or _why_empty(item, context))
    if found.evidence is None:
        note = found.note or "no option or synonym is mentioned; the first option was taken as the default"
        return FieldResult(found.value, FILLED, [], note)
    return FieldResult(found.value, FILLED, [_evidence(found.evidence, locator)], found.note)


def _evidence(sentence: Sentence, locator: Locator) -> Evidence:
    block = sentence.block
    text = block.get("text") or ""
    start = text.find(sentence.text)
    if start >= 0 and sentence.text:
        return Evidence(
            quote=sentence.text,
            verified=True,
            block_id=block.get("id"),
            start=start,
            end=start + len(sentence.text),
            page_idx=block.get("page_idx"),
            bbox=block.get("bbox"),
            section_id=block.get("section_id"),
            source_text=sentence.text,
        )
    return locator.locate(sentence.text, [block.get("id", "")])


def _why_empty(item: Field, context: _Context) -> str:
    terms = field_terms(item)
    shown = "、".join(terms[:5])
    if not context.ranked(terms):
        return f"no sentence mentions {shown}"
    kind = _value_kind(item)
    wanted = {
        "date": "a date or time",
        "count": "a count next to the term",
        "money": "an amount of money",
        "region": "a place name",
        "label": "a name after the label",
        "short_name": "a short name in quotes",
    }.get(kind, "a usable value")
    return f"sentences mention {shown} but none states {wanted}"


def _is_yes_no(options: tuple[str, ...]) -> bool:
    return len(options) == 2 and set(options) in _YES_NO


def _yes_no_pair(options: tuple[str, ...]) -> tuple[str, str]:
    yes = "是" if "是" in options else "有"
    no = "否" if "否" in options else "无"
    return yes, no


def _unique(words: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(word for word in words if word))
