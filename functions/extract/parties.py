"""Named parties from the statements Chinese investigation reports make about them.

* Role statements: ``建设单位北京市轨道交通建设管理有限公司，施工单位中铁二十一局集团有限公司，专业分包单位
  北京怡立建筑工程有限公司，监理单位……`` → role → organisation, in the order written. A name follows its
  role label directly (optionally after 为/是/：) and ends with an organisation suffix, so "X作为施工单位"
  (a subcontractor acting as builder) never makes X the general contractor.
* The text before the first role label of such a statement, when it ends like a project name
  (``…合同段``, ``…工程``), is the project.
* ``北京怡立建筑工程有限公司，法定代表人边立宾`` → legal representative of that organisation.
* ``班组长谢子兵……负有直接责任`` → people (after a job title) by the responsibility the text gives them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ROLE_LABELS: dict[str, str] = {
    "建设单位": "construction_unit",
    "业主单位": "construction_unit",
    "施工总承包单位": "general_contractor",
    "总承包单位": "general_contractor",
    "施工单位": "general_contractor",
    "专业分包单位": "specialist_subcontractor",
    "劳务分包单位": "labour_subcontractor",
    "分包单位": "subcontractor",
    "监理单位": "supervisor",
    "勘察单位": "surveyor",
    "设计单位": "designer",
    "租赁单位": "lessor",
    "出租单位": "lessor",
    "安拆单位": "installer",
    "检测单位": "testing",
    "监测单位": "monitoring",
}
_ORG = (
    r"[\u4e00-\u9fffA-Za-z0-9（）()·]{2,40}?"
    r"(?:有限责任公司|股份有限公司|有限公司|集团公司|公司|集团|研究院|设计院|中心|事务所|局)"
)
_ROLE = "|".join(sorted(ROLE_LABELS, key=len, reverse=True))
_ROLE_STATEMENT = re.compile(
    rf"(?<![\u4e00-\u9fff作为是])({_ROLE})\s*(?:为|是|：|:)?\s*({_ORG})(?=[，,。；;、）)\s]|$)"
)
_PROJECT_END = re.compile(r"(?:合同段|标段|工程|项目)$")
_LEGAL_REP = re.compile(
    rf"({_ORG})[，,]\s*法定代表人\s*(?:为|是|：|:)?\s*([\u4e00-\u9fff]{{2,4}}?)(?=[，,。；;（(\s]|$)"
)
_TITLES = (
    r"(?:班组长|总经理|董事长|项目经理|项目负责人|总监理工程师|技术负责人|安全员|工长|施工员|负责人|工人)"
)
_PERSON = re.compile(rf"{_TITLES}([\u4e00-\u9fff]{{2,3}}?)(?=[，,。；;（(\s]|违章|作为|未|在|对|负)")
RESPONSIBILITY = {
    "direct": ("负有直接责任",),
    "principal": ("负有主要责任", "负有管理责任", "负有主要领导责任", "负有重要领导责任", "负有领导责任"),
}


@dataclass(frozen=True)
class Mention:
    value: str
    sentence: str
    index: int  # the sentence's position in the list given


@dataclass(frozen=True)
class Parties:
    roles: dict[str, list[Mention]]
    project: Mention | None
    legal_representatives: dict[str, Mention]
    responsible: dict[str, list[Mention]]

    def first(self, role: str) -> Mention | None:
        found = self.roles.get(role)
        return found[0] if found else None


def find_parties(sentences: Iterable[str]) -> Parties:
    roles: dict[str, list[Mention]] = {}
    project: Mention | None = None
    legal: dict[str, Mention] = {}
    responsible: dict[str, list[Mention]] = {}
    for index, sentence in enumerate(sentences):
        statements = list(_ROLE_STATEMENT.finditer(sentence))
        for match in statements:
            role = ROLE_LABELS[match.group(1)]
            names = [mention.value for mention in roles.get(role, [])]
            if match.group(2) not in names:
                roles.setdefault(role, []).append(Mention(match.group(2), sentence, index))
        if statements and project is None:
            head = sentence[: statements[0].start()].strip(" ，,：:")
            head = re.split(r"[。；;]", head)[-1].strip()
            if _PROJECT_END.search(head) and len(head) >= 4:
                project = Mention(head, sentence, index)
        for match in _LEGAL_REP.finditer(sentence):
            legal.setdefault(match.group(1), Mention(match.group(2), sentence, index))
        for kind, phrases in RESPONSIBILITY.items():
            if any(phrase in sentence for phrase in phrases):
                for person in _PERSON.finditer(sentence):
                    mentions = responsible.setdefault(kind, [])
                    if person.group(1) not in [m.value for m in mentions]:
                        mentions.append(Mention(person.group(1), sentence, index))
                    break  # the subject of the sentence, not people it mentions later
    if "subcontractor" not in roles:
        merged = roles.get("specialist_subcontractor", []) + roles.get("labour_subcontractor", [])
        if merged:
            roles["subcontractor"] = merged
    return Parties(roles, project, legal, responsible)
