"""What a case's timeline says, in zh-CN and en: a sentence per event, and the words for its values.

The timeline is read from the workflow's event history (`api.history`) or, once Temporal no longer
keeps it, from the read model (`api.history_archive`); both say the same thing in the same words, and
the console names statuses, channels and deadlines with `WORDS` too. A signal's sentence is keyed by
the signal's name; an update's by the event it makes (`acknowledge` → `acknowledged`).
"""

from __future__ import annotations

from typing import Any

from steward.texts.choices import EN, ZH, Phrases
from workflows.contracts import Locale
from workflows.names import CaseSignal

PHRASES: dict[str, Phrases] = {
    "submitted": {EN: "{actor} submitted a {kind} ({severity}, {category}, building {building})",
        ZH: "{actor} 提交了{kind}（{severity}，{category}，{building} 栋）"},
    "acknowledged": {EN: "{actor} acknowledged the case", ZH: "{actor} 确认接单"},
    CaseSignal.PROGRESS: {EN: "{actor} reported progress: {note}", ZH: "{actor} 记录进展：{note}"},
    "paused": {EN: "{actor} paused the resolution clock: {reason} (resume time: {resume_at})",
        ZH: "{actor} 暂停处理计时：{reason}（恢复时间：{resume_at}）"},
    "resumed": {EN: "{actor} resumed the work", ZH: "{actor} 恢复处理"},
    "reassigned": {EN: "{actor} reassigned the work to {handler_id}: {reason}",
        ZH: "{actor} 将工单转派给 {handler_id}：{reason}"},
    "severity_changed": {EN: "{actor} changed the severity to {severity} ({reason})",
        ZH: "{actor} 将紧急程度调整为{severity}（{reason}）"},
    "extended": {EN: "{actor} moved the resolution deadline to {resolution_due}: {reason}",
        ZH: "{actor} 将处理时限调整为 {resolution_due}：{reason}"},
    "plan_agreed": {EN: "{actor} agreed a plan with the resident, due {resolution_due} ({reason}): {plan}",
        ZH: "{actor} 与住户商定处理方案，时限 {resolution_due}（{reason}）：{plan}"},
    "resolved": {EN: "{actor} resolved the case: {note}", ZH: "{actor} 处理完毕：{note}"},
    "inspection_reported": {EN: "{actor} filed the inspection report: {note}",
                            ZH: "{actor} 提交巡检报告：{note}"},
    "fault_fixed": {EN: "Resolved with the device's case {fixed_with} by {actor}: {note}",
                    ZH: "随设备工单 {fixed_with} 一并处理完毕（{actor}）：{note}"},
    "handed_on": {EN: "{actor} handed on the work of {staff_id}, who left",
        ZH: "{actor} 转交了已离职的 {staff_id} 的工单"},
    "withdrawn": {EN: "{actor} withdrew the case ({reason})", ZH: "{actor} 撤销了事项（{reason}）"},
    "manual_callback_recorded": {EN: "{actor} recorded the callback: {result} — {note}",
        ZH: "{actor} 记录回访结果：{result}——{note}"},
    "callback_answered": {EN: "{actor} answered the callback in the app (satisfied: {satisfied}): {comment}",
        ZH: "{actor} 在应用中答复回访（满意：{satisfied}）：{comment}"},
    "photos_added": {EN: "{actor} added photos: {photos}", ZH: "{actor} 添加了照片：{photos}"},
    "refused": {EN: "{actor} tried {name}, which failed: {reason}",
        ZH: "{actor} 尝试 {name} 未成功：{reason}"},
    "signal": {EN: "{actor} sent {name}: {what}", ZH: "{actor} 发来 {name}：{what}"},
    CaseSignal.CALLBACK_REPLY: {EN: "The resident answered callback attempt {attempt} by {channel}: {result}",
        ZH: "住户通过{channel}答复第 {attempt} 次回访：{result}"},
    CaseSignal.DELIVERY_FAILED: {
        EN: "{channel} for callback attempt {attempt} did not get through ({status})",
        ZH: "第 {attempt} 次回访{channel}未送达（{status}）"},
    CaseSignal.DEVICE_READING: {EN: "The device reported: {reading}", ZH: "设备报告：{reading}"},
    CaseSignal.RESIDENT_MESSAGE: {EN: "{actor} added by {channel}: {text}",
        ZH: "{actor} 通过{channel}补充：{text}"},
    "deadline": {EN: "The {deadline} deadline ({at}) passed", ZH: "{deadline}时限（{at}）已到"},
    "timer": {EN: "Timer fired: {summary}", ZH: "计时到期：{summary}"},
    "message": {EN: "{channel} to {recipient}: {body}", ZH: "{channel}发送给 {recipient}：{body}"},
    "escalated": {EN: "Escalated to tier {tier} ({tier_name})", ZH: "已升级至第 {tier} 级（{tier_name}）"},
    "tier": {EN: "Handled at tier {tier} ({tier_name})", ZH: "处理层级调整为第 {tier} 级（{tier_name}）"},
    "status": {EN: "Status: {status}", ZH: "状态：{status}"},
    "reopened": {EN: "Reopened: the resident was not satisfied", ZH: "住户不满意，已重新打开"},
    "breached": {EN: "Marked breached: a deadline was missed", ZH: "已标记为超时"},
    "closed": {EN: "Case closed; callback result: {result}", ZH: "已办结，回访结果：{result}"},
    "unreadable": {EN: "An event this version cannot read ({type})", ZH: "无法解读的事件（{type}）"},
    "ended": {EN: "The case workflow ended without closing ({outcome})", ZH: "工单流程异常结束（{outcome}）"},
    "projection_failed": {EN: "The read model refused a transition for good (not retried): {reason}",
        ZH: "一次状态变更未能写入报表数据库（不再重试）：{reason}"},
}

WORDS: dict[str, dict[str, Phrases]] = {
    "kind": {"repair": {EN: "repair", ZH: "报修"}, "complaint": {EN: "complaint", ZH: "投诉"},
             "question": {EN: "question", ZH: "咨询"}, "inspection": {EN: "inspection", ZH: "巡检"}},
    "severity": {
        "emergency": {EN: "emergency", ZH: "紧急"}, "urgent": {EN: "urgent", ZH: "加急"},
        "normal": {EN: "normal", ZH: "一般"}, "low": {EN: "low", ZH: "低优先级"},
    },
    "status": {
        "submitted": {EN: "submitted", ZH: "已提交"}, "dispatched": {EN: "dispatched", ZH: "已派单"},
        "acknowledged": {EN: "acknowledged", ZH: "已接单"}, "in_progress": {EN: "in progress", ZH: "处理中"},
        "resolved": {EN: "resolved", ZH: "已处理"}, "callback": {EN: "awaiting callback", ZH: "回访中"},
        "manual_callback": {EN: "awaiting a manual callback", ZH: "待人工回访"},
        "closed": {EN: "closed", ZH: "已办结"},
    },
    "channel": {
        "sms": {EN: "SMS", ZH: "短信"}, "voice": {EN: "Call", ZH: "电话"}, "app": {EN: "App", ZH: "应用"},
    },
    "result": {
        "satisfied": {EN: "satisfied", ZH: "满意"}, "not_satisfied": {EN: "not satisfied", ZH: "不满意"},
        "unreachable": {EN: "unreachable", ZH: "联系不上"},
    },
    "deadline": {
        "response": {EN: "response", ZH: "响应"}, "response_missed": {EN: "response", ZH: "响应"},
        "warning": {EN: "75 % warning", ZH: "预警"}, "resolution": {EN: "resolution", ZH: "处理"},
        "resolution_breached": {EN: "resolution", ZH: "处理"},
        "resume": {EN: "automatic resume", ZH: "自动恢复"},
        "manual_callback": {EN: "manual callback", ZH: "人工回访"},
        "manual_callback_missed": {EN: "manual callback", ZH: "人工回访"},
        "callback_reply": {EN: "callback answer", ZH: "回访答复"},
        "quiet_hours": {EN: "quiet hours", ZH: "免打扰时段"},
    },
    "none": {"": {EN: "none given", ZH: "未填写"}},
}


def word(group: str, value: Any, locale: Locale) -> str:
    """The reader's word for `value` of `group`; a value the table does not know reads as written."""
    if value is None or value == "":
        return WORDS["none"][""][locale]
    return WORDS[group].get(str(value), {}).get(locale, str(value))


def phrase(name: str, locale: Locale, /, **words: Any) -> str:
    """The sentence `name` in the reader's language; a word the event did not carry reads as '-'."""
    return PHRASES[name][locale].format_map(_Words(words))


class _Words(dict):
    def __missing__(self, key: str) -> str:
        return "-"
