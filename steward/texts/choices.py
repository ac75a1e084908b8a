"""The building blocks of a text: a template's phrases per locale, and params said from a fixed set."""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows.contracts import Locale

ZH, EN = Locale.zh_cn, Locale.en

Phrases = dict[Locale, str]

FREE_TEXT = frozenset({
    "title", "reason", "plan", "answer", "place", "costs", "codes", "message", "root_cause",
})
"""Params that hold people's own words or a list of any length: cut to make an SMS fit two segments."""


@dataclass(frozen=True)
class Choice:
    """A param that names one of a fixed set of values, each said per locale.

    `open=True` lets a value outside the set through as written (for free-text reasons).
    """

    values: dict[str, Phrases]
    open: bool = False


@dataclass(frozen=True)
class Template:
    text: Phrases
    voice: Phrases | None = None  # spoken text, where it differs from the SMS
    choices: dict[str, Choice] = field(default_factory=dict)


PURPOSE = Choice({
    "resolved": {ZH: "已处理完毕", EN: "has been resolved"},
    "withdrawn": {ZH: "已按您的要求撤销", EN: "was withdrawn at your request"},
    "hearing": {ZH: "的听证决定已公布", EN: "- the hearing decision has been published"},
    "drill": {ZH: "的演练已完成", EN: "- the drill is complete"},
})

TIER = Choice({
    "0": {ZH: "处理人", EN: "handler"},
    "1": {ZH: "班组长", EN: "team lead"},
    "2": {ZH: "物业经理", EN: "property manager"},
    "3": {ZH: "总经理", EN: "general manager"},
})

ESCALATION_REASON = Choice({
    "response_missed": {ZH: "超时未确认", EN: "was not acknowledged in time"},
    "resolution_breached": {ZH: "已超过处理时限", EN: "has passed its resolution deadline"},
    "reopened": {ZH: "住户回访不满意，已重新打开", EN: "was reopened: the resident is not satisfied"},
    "manual_callback_missed": {ZH: "人工回访超时未完成", EN: "manual callback was not recorded in time"},
    "answer_missed": {ZH: "超时未书面答复", EN: "was not answered in time"},
    "start_missed": {ZH: "未按时开始", EN: "was not started on time"},
    "report_missed": {ZH: "未按时提交报告", EN: "has no report yet"},
    "other": {ZH: "需要您关注", EN: "needs your attention"},
})

DRILL_TYPE = Choice({
    "fire": {ZH: "消防", EN: "fire"},
    "flood": {ZH: "防汛", EN: "flood"},
    "security": {ZH: "安防", EN: "security"},
})

DRILL_OVERDUE = Choice({
    "start": {ZH: "未按时开始", EN: "was not started on time"},
    "report": {ZH: "未按时提交报告", EN: "has no report yet"},
})

MANUAL_CALLBACK_REASON = Choice({
    "unreachable": {ZH: "多次联系未果", EN: "the resident could not be reached"},
    "opted_out": {ZH: "住户已退订短信", EN: "the resident has opted out of SMS"},
    "no_phone": {ZH: "住户没有登记电话", EN: "the resident has no phone on file"},
    "bad_channel": {ZH: "住户电话无法接通", EN: "the resident's number does not work"},
    "handed_on": {ZH: "原负责人已离职，转交给您", EN: "handed on to you: the previous owner has left"},
    "verification": {ZH: "巡检已完成，请班组长现场复核",
                     EN: "an inspection awaits a second person's verification"},
}, open=True)

OWNER_EVENT = Choice({
    "escalated": {ZH: "已升级", EN: "was escalated"},
    "reopened": {ZH: "已重新打开", EN: "was reopened"},
    "reassigned": {ZH: "已转派", EN: "was reassigned"},
    "breached": {ZH: "已超时", EN: "passed its deadline"},
    "callback_satisfied": {ZH: "回访结果：满意", EN: "callback result: satisfied"},
    "callback_not_satisfied": {ZH: "回访结果：不满意", EN: "callback result: not satisfied"},
    "callback_unreachable": {ZH: "回访结果：联系不上", EN: "callback result: resident unreachable"},
    "closed": {ZH: "已办结", EN: "was closed"},
    "withdrawn": {ZH: "已被住户撤销", EN: "was withdrawn by the resident"},
    "plan_agreed": {ZH: "已与住户商定处理方案", EN: "has a resolution plan agreed with the resident"},
}, open=True)

OUTCOME = Choice({
    "approved": {ZH: "通过", EN: "approved"},
    "rejected": {ZH: "未通过", EN: "rejected"},
    "revised": {ZH: "修改后通过", EN: "approved as revised"},
})

SUCCESSOR = Choice({"": {ZH: "上一级（无人可接）", EN: "the next tier (nobody could take it)"}}, open=True)
