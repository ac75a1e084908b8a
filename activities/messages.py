"""Every word Steward says to a resident or a staff member, in zh-CN and en, in one place.

A text is rendered from a template key and string params. `NOTICES` are what the workflows send (each
names the case by its code); `PROMPTS` are what the Twilio webhooks answer with (keypad menus,
replies to an SMS). To add a message, add an entry with both locales; the tests render every entry in
both locales, so a missing translation or param fails the suite, and `render` refuses an unknown key
or a missing param at once instead of sending half a sentence.

Params whose name ends in `_due` or `_at` are ISO times and are written the local way; params that
name one of a fixed set of values (a callback's purpose, a tier, an escalation reason) are looked up
in the template's `choices` and said in the reader's language.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from workflows.contracts import Channel, Locale

ZH, EN = Locale.zh_cn, Locale.en

Phrases = dict[Locale, str]


class TemplateError(LookupError):
    """An unknown template key or locale, a missing param or a value a choice does not know."""


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
    "hearing": {ZH: "的听证决定已公布", EN: "— the hearing decision has been published"},
    "drill": {ZH: "的演练已完成", EN: "— the drill is complete"},
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

NOTICES: dict[str, Template] = {
    # --- to residents ---
    "case_received": Template({
        ZH: "【物业服务中心】您的事项 {code}「{title}」已受理，我们将于 {response_due} 前响应，"
            "{resolution_due} 前处理完毕。",
        EN: "[Property Service Centre] We have received {code} \"{title}\". We will respond by "
            "{response_due} and resolve it by {resolution_due}.",
    }),
    "case_acknowledged": Template({
        ZH: "【物业服务中心】您的事项 {code} 已有工作人员接单处理。",
        EN: "[Property Service Centre] A member of staff has taken {code} and is on it.",
    }),
    "case_paused": Template({
        ZH: "【物业服务中心】您的事项 {code} 暂停处理：{reason}。预计恢复时间：{resume_at}。",
        EN: "[Property Service Centre] Work on {code} is paused: {reason}. Expected to resume: {resume_at}.",
    }),
    "case_resumed": Template({
        ZH: "【物业服务中心】您的事项 {code} 已恢复处理，将于 {resolution_due} 前处理完毕。",
        EN: "[Property Service Centre] Work on {code} has resumed; it will be resolved by {resolution_due}.",
    }),
    "deadline_changed": Template({
        ZH: "【物业服务中心】您的事项 {code} 处理时限已调整为 {resolution_due}，原因：{reason}。",
        EN: "[Property Service Centre] The deadline for {code} is now {resolution_due}. Reason: {reason}.",
    }),
    "case_withdrawn": Template({
        ZH: "【物业服务中心】您的事项 {code} 已由服务中心撤回，原因：{reason}。如有异议请致电服务中心。",
        EN: "[Property Service Centre] The service centre withdrew {code}. Reason: {reason}. "
            "If you disagree, please call the service centre.",
    }),
    "callback_request": Template(
        text={
            ZH: "【物业服务中心】您的事项 {code}「{title}」{purpose}。满意请回复1，不满意请回复2"
                "（如有多个事项，请同时回复编号，例如“1 {code}”）。",
            EN: "[Property Service Centre] Your case {code} \"{title}\" {purpose}. Reply 1 if you are "
                "satisfied or 2 if you are not (if you have several cases, include the code, "
                "e.g. \"1 {code}\").",
        },
        voice={
            ZH: "您好，这里是物业服务中心。您的事项 {code}，{title}，{purpose}。满意请按1，不满意请按2。",
            EN: "Hello, this is the property service centre. Your case {code}, {title}, {purpose}. "
                "If you are satisfied, press 1. If you are not satisfied, press 2.",
        },
        choices={"purpose": PURPOSE},
    ),
    "callback_thanks": Template(
        text={
            ZH: "【物业服务中心】感谢您对事项 {code} 的评价。",
            EN: "[Property Service Centre] Thank you for your feedback on {code}.",
        },
        voice={
            ZH: "感谢您对事项 {code} 的评价，再见。",
            EN: "Thank you for your feedback on case {code}. Goodbye.",
        },
    ),
    "case_reopened": Template({
        ZH: "【物业服务中心】很抱歉，事项 {code} 已重新处理，将于 {resolution_due} 前处理完毕。",
        EN: "[Property Service Centre] We are sorry: {code} has been reopened and will be resolved by "
            "{resolution_due}.",
    }),
    "case_closed": Template({
        ZH: "【物业服务中心】您的事项 {code} 已办结，感谢您的支持。",
        EN: "[Property Service Centre] Your case {code} is closed. Thank you.",
    }),
    "complaint_plan_agreed": Template({
        ZH: "【物业服务中心】关于您的投诉 {code}，我们与您商定的处理方案：{plan}。"
            "处理时限调整为 {resolution_due}，原因：{reason}。",
        EN: "[Property Service Centre] The plan agreed with you for your complaint {code}: {plan}. "
            "It will be resolved by {resolution_due}. Reason: {reason}.",
    }),
    "question_answered": Template({
        ZH: "【物业服务中心】关于您的咨询 {code}，答复如下：{answer}",
        EN: "[Property Service Centre] The answer to your question {code}: {answer}",
    }),
    "hearing_notice": Template(
        text={
            ZH: "【物业服务中心】听证会通知 {code}「{title}」将于 {hearing_at} 在{place}举行。"
                "费用明细：{costs}；合计 {total} 元。"
                "如有异议或疑问，请回复“{code} 您的意见”，我们将在24小时内书面答复。",
            EN: "[Property Service Centre] Public hearing {code} \"{title}\" on {hearing_at} at {place}. "
                "Costs: {costs}; total {total} yuan. To object or ask a question, reply "
                "\"{code} your message\"; we answer in writing within 24 hours.",
        },
        voice={
            ZH: "您好，这里是物业服务中心。听证会通知：{title}，将于 {hearing_at} 在{place}举行，"
                "费用合计 {total} 元。如有异议或疑问，请发送短信，以听证编号 {code} 开头。",
            EN: "Hello, this is the property service centre. A public hearing on {title} is held on "
                "{hearing_at} at {place}; the costs total {total} yuan. To object or ask a question, "
                "send us a text message starting with the hearing code {code}.",
        },
    ),
    "hearing_reminder": Template({
        ZH: "【物业服务中心】提醒：听证会 {code}「{title}」将于明天 {hearing_at} 在{place}举行，"
            "欢迎参加。",
        EN: "[Property Service Centre] Reminder: hearing {code} \"{title}\" is tomorrow, {hearing_at}, "
            "at {place}. You are welcome to attend.",
    }),
    "hearing_decision": Template(
        {
            ZH: "【物业服务中心】听证会 {code}「{title}」决定：{outcome}，费用合计 {total} 元。"
                "理由：{reason}。",
            EN: "[Property Service Centre] Decision on hearing {code} \"{title}\": {outcome}; costs total "
                "{total} yuan. Reason: {reason}.",
        },
        choices={"outcome": OUTCOME},
    ),
    "objection_received": Template({
        ZH: "【物业服务中心】已收到您对听证会 {code} 的第 {number} 号意见，"
            "我们将于 {answer_due} 前书面答复。",
        EN: "[Property Service Centre] We have received your comment no. {number} on hearing {code}; "
            "we will answer in writing by {answer_due}.",
    }),
    "objection_answer": Template({
        ZH: "【物业服务中心】听证会 {code} 第 {number} 号意见的答复：{answer}",
        EN: "[Property Service Centre] Our answer to your comment no. {number} on hearing {code}: {answer}",
    }),
    "drill_announcement": Template(
        {
            ZH: "【物业服务中心】{building} 定于 {scheduled_at} 进行{drill_type}演练（{code}），"
                "届时警报将会响起，请按工作人员指引配合。",
            EN: "[Property Service Centre] A {drill_type} drill ({code}) is planned in building {building} "
                "on {scheduled_at}. The alarm will sound; please follow the staff's directions.",
        },
        choices={"drill_type": DRILL_TYPE},
    ),
    "drill_reminder": Template(
        {
            ZH: "【物业服务中心】提醒：{building} 的{drill_type}演练（{code}）将于明天 {scheduled_at} 进行。",
            EN: "[Property Service Centre] Reminder: the {drill_type} drill ({code}) in building {building} "
                "is tomorrow, {scheduled_at}.",
        },
        choices={"drill_type": DRILL_TYPE},
    ),
    "drill_survey": Template(
        text={
            ZH: "【物业服务中心】{building} 的{drill_type}演练（{code}）已结束。演练时您听到警报了吗？"
                "听到请回复1，没听到请回复2（请于 {closes_at} 前回复）。",
            EN: "[Property Service Centre] The {drill_type} drill ({code}) in building {building} is over. "
                "Did you hear the alarm? Reply 1 for yes or 2 for no (by {closes_at}).",
        },
        voice={
            ZH: "您好，这里是物业服务中心。{building} 的{drill_type}演练已结束，演练编号 {code}。"
                "演练时您听到警报了吗？听到请按1，没听到请按2。",
            EN: "Hello, this is the property service centre. The {drill_type} drill {code} in building "
                "{building} is over. Did you hear the alarm? Press 1 for yes, or 2 for no.",
        },
        choices={"drill_type": DRILL_TYPE},
    ),
    # --- to staff ---
    "drill_planned": Template(
        {
            ZH: "【演练】{building} {drill_type}演练 {code} 定于 {scheduled_at}，"
                "请于 {start_due} 前开始演练。",
            EN: "[Drill] {drill_type} drill {code} in building {building} on {scheduled_at}. "
                "Start it by {start_due}.",
        },
        choices={"drill_type": DRILL_TYPE},
    ),
    "drill_report_due": Template({
        ZH: "【演练】演练 {code} 已完成，请于 {report_due} 前提交演练报告。",
        EN: "[Drill] Drill {code} is complete. File its report by {report_due}.",
    }),
    "drill_escalation": Template(
        {
            ZH: "【升级·{tier}】{building} {drill_type}演练 {code} {overdue}，请立即处理。",
            EN: "[Escalation, {tier}] The {drill_type} drill {code} in building {building} {overdue}. "
                "Please act now.",
        },
        choices={"tier": TIER, "drill_type": DRILL_TYPE, "overdue": DRILL_OVERDUE},
    ),
    "objection_task": Template({
        ZH: "【听证意见】听证会 {code} 收到 {building} 住户第 {number} 号意见，"
            "请于 {answer_due} 前书面答复。",
        EN: "[Hearing comment] Hearing {code}: comment no. {number} from building {building}. "
            "Answer in writing by {answer_due}.",
    }),
    "objection_escalation": Template(
        {
            ZH: "【升级·{tier}】听证会 {code} 第 {number} 号意见未在 {answer_due} 前答复，请立即答复。",
            EN: "[Escalation, {tier}] Hearing {code}: comment no. {number} was not answered by "
                "{answer_due}. Please answer now.",
        },
        choices={"tier": TIER},
    ),
    "dispatch": Template(
        text={
            ZH: "【工单】{code}「{title}」，{building} {unit}，请于 {response_due} 前确认。回复1确认接单。",
            EN: "[Work order] {code} \"{title}\", {building} {unit}. Acknowledge by {response_due}: "
                "reply 1 to acknowledge.",
        },
        voice={
            ZH: "新工单 {code}，{title}，{building} {unit}，请于 {response_due} 前确认。确认接单请按1。",
            EN: "New work order {code}, {title}, {building} {unit}. Acknowledge by {response_due}. "
                "Press 1 to acknowledge.",
        },
    ),
    "escalation": Template(
        text={
            ZH: "【升级·{tier}】工单 {code} {reason}，请立即处理。尚未确认的请回复1确认接单。",
            EN: "[Escalation, {tier}] Work order {code} {reason}. Please act now. If not yet acknowledged, "
                "reply 1 to acknowledge.",
        },
        voice={
            ZH: "升级通知，{tier}。工单 {code} {reason}，请立即处理。确认接单请按1。",
            EN: "Escalation to {tier}. Work order {code} {reason}. Please act now. Press 1 to acknowledge.",
        },
        choices={"tier": TIER, "reason": ESCALATION_REASON},
    ),
    "warning": Template({
        ZH: "【预警】工单 {code} 将于 {resolution_due} 到期，请抓紧处理。",
        EN: "[Warning] Work order {code} is due by {resolution_due}.",
    }),
    "manual_callback_task": Template(
        {
            ZH: "【人工回访】工单 {code}：{reason}。请在30分钟内电话或上门回访，并在系统中记录结果。",
            EN: "[Manual callback] Work order {code}: {reason}. Call or visit the resident within 30 minutes "
                "and record the outcome.",
        },
        choices={"reason": MANUAL_CALLBACK_REASON},
    ),
    "staff_left": Template({
        ZH: "【工单动态】工单 {code} 的负责人 {staff} 已离职，工单已转交 {handler}。",
        EN: "[Case update] {staff}, who held case {code}, has left; it now goes to {handler}.",
    }, choices={"handler": SUCCESSOR}),
    "owner_update": Template(
        {
            ZH: "【工单动态】您负责的工单 {code} {event}。",
            EN: "[Case update] Your case {code} {event}.",
        },
        choices={"event": OWNER_EVENT},
    ),
}

PROMPTS: dict[str, Template] = {
    "voice.no_input": Template({
        ZH: "我们没有收到您的按键。", EN: "We did not receive your answer.",
    }),
    "voice.invalid_choice": Template({
        ZH: "输入无效。", EN: "That is not one of the choices.",
    }),
    "voice.goodbye": Template({
        ZH: "感谢接听，我们稍后会再与您联系。再见。",
        EN: "Thank you for taking our call. We will contact you again later. Goodbye.",
    }),
    "voice.acknowledged": Template({
        ZH: "工单 {code} 已确认接单，谢谢。", EN: "Work order {code} is acknowledged. Thank you.",
    }),
    "voice.ack_failed": Template({
        ZH: "工单 {code} 无法确认，请在工作台查看。", EN: "Work order {code} could not be acknowledged; "
        "please check the staff app.",
    }),
    "voice.unavailable": Template({
        ZH: "抱歉，本次通话内容已失效。再见。", EN: "Sorry, this call is no longer valid. Goodbye.",
    }),
    "reply.ask_for_code": Template({
        ZH: "您有多个待评价的事项（{codes}），请回复满意(1)或不满意(2)并附上事项编号，例如“1 {example}”。",
        EN: "You have several cases awaiting your answer ({codes}). Please reply 1 or 2 followed by the "
            "case code, e.g. \"1 {example}\".",
    }),
    "reply.ask_for_ack_code": Template({
        ZH: "您有多个待确认的工单（{codes}），请回复“1 工单编号”。",
        EN: "You have several work orders to acknowledge ({codes}). Reply \"1 <code>\".",
    }),
    "reply.unmatched": Template({
        ZH: "【物业服务中心】已收到您的短信，我们会尽快处理。如需报修请使用业主应用或致电服务中心。",
        EN: "[Property Service Centre] Thank you for your message; we will look into it. "
            "To report a problem, please use the resident app or call the service centre.",
    }),
    "reply.joined": Template({
        ZH: "【物业服务中心】您的补充说明已加入事项 {code}。",
        EN: "[Property Service Centre] Your message has been added to case {code}.",
    }),
    "reply.report_refused": Template({
        ZH: "【物业服务中心】您的短信未能登记为事项：{reason}。已转交工作人员，紧急情况请致电服务中心。",
        EN: "[Property Service Centre] Your message could not be filed as a case: {reason}. It has been "
            "passed to our staff; in an emergency, please call the service centre.",
    }),
    "reply.case_unavailable": Template({
        ZH: "【物业服务中心】事项 {code} 已不在回访阶段，您的短信已转交工作人员。",
        EN: "[Property Service Centre] Case {code} is no longer awaiting your answer; your message has been "
            "passed to our staff.",
    }),
    "reply.acknowledged": Template({
        ZH: "工单 {code} 已确认接单。", EN: "Work order {code} is acknowledged.",
    }),
    "reply.ack_failed": Template({
        ZH: "工单 {code} 无法确认：{reason}", EN: "Work order {code} could not be acknowledged: {reason}",
    }),
    "reply.nothing_to_acknowledge": Template({
        ZH: "您目前没有待确认的工单。", EN: "You have no work order waiting to be acknowledged.",
    }),
    "reply.objection_refused": Template({
        ZH: "【物业服务中心】听证会 {code} 未能登记您的意见：{reason}",
        EN: "[Property Service Centre] Hearing {code} could not take your comment: {reason}",
    }),
    "sign_in_code": Template({
        ZH: "【物业服务中心】您的登录验证码为 {sign_in_code}，{minutes} 分钟内有效。请勿告诉他人。",
        EN: "[Property Service Centre] Your sign-in code is {sign_in_code}. It is valid for {minutes} "
            "minutes. Do not share it.",
    }),
    "reply.opted_out": Template({
        ZH: "【物业服务中心】您已退订短信通知，回访将改为电话联系。回复START可恢复。",
        EN: "[Property Service Centre] You will no longer receive SMS from us; we will call instead. "
            "Reply START to resubscribe.",
    }),
}

TEMPLATES: dict[str, Template] = NOTICES | PROMPTS

_VOICE_LANGUAGE = {ZH: "zh-CN", EN: "en-US"}
_TO_BE_ANNOUNCED = {ZH: "另行通知", EN: "to be announced"}


def locale_of(value: Locale | str | None) -> Locale:
    """A stored or given locale; anything unknown or missing falls back to Chinese, the community default."""
    try:
        return Locale(value)
    except ValueError:
        return ZH


def voice_language(locale: Locale | str) -> str:
    """The `language` attribute of TwiML `<Say>`/`<Gather>` for a locale."""
    return _VOICE_LANGUAGE[locale_of(locale)]


def required_params(key: str) -> set[str]:
    """The params a template needs, across its locales and channels."""
    template = _template(key)
    texts = [*template.text.values(), *(template.voice or {}).values()]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


def render(
    key: str,
    locale: Locale | str,
    params: Mapping[str, str] | None = None,
    *,
    channel: Channel = Channel.sms,
    timezone: str | None = None,
) -> str:
    """The text of `key` in `locale` for `channel`; `timezone` is where times are written for the reader."""
    template = _template(key)
    try:
        locale = Locale(locale)
    except ValueError:
        raise TemplateError(f"unknown locale {locale!r}: use one of {[x.value for x in Locale]}") from None
    texts = template.voice if channel == Channel.voice and template.voice else template.text
    if locale not in texts:
        raise TemplateError(f"template {key!r} has no {locale.value} text")
    params = dict(params or {})
    missing = sorted(required_params(key) - set(params))
    if missing:
        raise TemplateError(f"template {key!r} needs params {missing}; got {sorted(params)}")
    values = {
        name: _value(key, template, name, str(value), locale, channel, timezone)
        for name, value in params.items()
    }
    return texts[locale].format_map(values)


def _template(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise TemplateError(f"unknown message template {key!r}; known: {sorted(TEMPLATES)}") from None


def _value(
    key: str, template: Template, name: str, value: str,
    locale: Locale, channel: Channel, timezone: str | None,
) -> str:
    choice = template.choices.get(name)
    if choice is not None:
        if value in choice.values:
            return choice.values[value][locale]
        if not choice.open:
            raise TemplateError(
                f"template {key!r}: {name}={value!r} is not one of {sorted(choice.values)}"
            )
        return value
    if name.endswith(("_due", "_at")):
        return _local_time(value, locale, timezone)
    if name == "code" and channel == Channel.voice:
        return " ".join(char for char in value if char.isalnum())
    return value


def _local_time(value: str, locale: Locale, timezone: str | None) -> str:
    if not value.strip():
        return _TO_BE_ANNOUNCED[locale]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone and moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(timezone))
    if locale == ZH:
        return f"{moment.month}月{moment.day}日 {moment:%H:%M}"
    return f"{moment.day} {moment:%b %H:%M}"
