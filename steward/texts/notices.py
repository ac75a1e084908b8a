"""What the workflows send: every notice names the case by its code."""

from __future__ import annotations

from steward.texts.choices import (
    DRILL_OVERDUE,
    DRILL_TYPE,
    EN,
    ESCALATION_REASON,
    MANUAL_CALLBACK_REASON,
    OUTCOME,
    OWNER_EVENT,
    PURPOSE,
    SUCCESSOR,
    TIER,
    ZH,
    Template,
)

NOTICES: dict[str, Template] = {
    # --- to residents ---
    "case_received": Template({
        ZH: "您的事项 {code}「{title}」已受理，我们将于 {response_due} 前响应，"
            "{resolution_due} 前处理完毕。",
        EN: "We have received {code} \"{title}\". We will respond by "
            "{response_due} and resolve it by {resolution_due}.",
    }),
    "case_acknowledged": Template({
        ZH: "您的事项 {code} 已有工作人员接单处理。",
        EN: "A member of staff has taken {code} and is on it.",
    }),
    "case_paused": Template({
        ZH: "您的事项 {code} 暂停处理：{reason}。预计恢复时间：{resume_at}。",
        EN: "Work on {code} is paused: {reason}. Expected to resume: {resume_at}.",
    }),
    "case_resumed": Template({
        ZH: "您的事项 {code} 已恢复处理，将于 {resolution_due} 前处理完毕。",
        EN: "Work on {code} has resumed; it will be resolved by {resolution_due}.",
    }),
    "deadline_changed": Template({
        ZH: "您的事项 {code} 处理时限已调整为 {resolution_due}，原因：{reason}。",
        EN: "The deadline for {code} is now {resolution_due}. Reason: {reason}.",
    }),
    "case_withdrawn": Template({
        ZH: "您的事项 {code} 已由服务中心撤回，原因：{reason}。如有异议请致电服务中心。",
        EN: "The service centre withdrew {code}. Reason: {reason}. "
            "If you disagree, please call the service centre.",
    }),
    "callback_request": Template(
        text={
            ZH: "您的事项 {code}「{title}」{purpose}。满意请回复1，不满意请回复2"
                "（如有多个事项，请同时回复编号，例如“1 {code}”）。",
            EN: "Your case {code} \"{title}\" {purpose}. Reply 1 if you are "
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
            ZH: "感谢您对事项 {code} 的评价。",
            EN: "Thank you for your feedback on {code}.",
        },
        voice={
            ZH: "感谢您对事项 {code} 的评价，再见。",
            EN: "Thank you for your feedback on case {code}. Goodbye.",
        },
    ),
    "case_reopened": Template({
        ZH: "很抱歉，事项 {code} 已重新处理，将于 {resolution_due} 前处理完毕。",
        EN: "We are sorry: {code} has been reopened and will be resolved by "
            "{resolution_due}.",
    }),
    "case_closed": Template({
        ZH: "您的事项 {code} 已办结，感谢您的支持。",
        EN: "Your case {code} is closed. Thank you.",
    }),
    "complaint_plan_agreed": Template({
        ZH: "关于您的投诉 {code}，我们与您商定的处理方案：{plan}。"
            "处理时限调整为 {resolution_due}，原因：{reason}。",
        EN: "The plan agreed with you for your complaint {code}: {plan}. "
            "It will be resolved by {resolution_due}. Reason: {reason}.",
    }),
    "question_answered": Template({
        ZH: "关于您的咨询 {code}，答复如下：{answer}",
        EN: "The answer to your question {code}: {answer}",
    }),
    "hearing_notice": Template(
        text={
            ZH: "听证会 {code}「{title}」{hearing_at}在{place}举行。费用：{costs}；合计{total}元。"
                "异议或疑问请回复“{code} 意见”，24小时内书面答复。",
            EN: "Public hearing {code} \"{title}\" on {hearing_at} at {place}. "
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
        ZH: "提醒：听证会 {code}「{title}」将于明天 {hearing_at} 在{place}举行，"
            "欢迎参加。",
        EN: "Reminder: hearing {code} \"{title}\" is tomorrow, {hearing_at}, "
            "at {place}. You are welcome to attend.",
    }),
    "hearing_decision": Template(
        {
            ZH: "听证会 {code}「{title}」决定：{outcome}，费用合计 {total} 元。"
                "理由：{reason}。",
            EN: "Decision on hearing {code} \"{title}\": {outcome}; costs total "
                "{total} yuan. Reason: {reason}.",
        },
        choices={"outcome": OUTCOME},
    ),
    "objection_received": Template({
        ZH: "已收到您对听证会 {code} 的第 {number} 号意见，"
            "我们将于 {answer_due} 前书面答复。",
        EN: "We have received your comment no. {number} on hearing {code}; "
            "we will answer in writing by {answer_due}.",
    }),
    "objection_answer": Template({
        ZH: "听证会 {code} 第 {number} 号意见的答复：{answer}",
        EN: "Our answer to your comment no. {number} on hearing {code}: {answer}",
    }),
    "incident_notice": Template({
        ZH: "{building} {title}（{code}）：{message} 预计 {expected_restoration_at} 恢复。"
            "我们已在处理，无需另行报修。",
        EN: "{title} in building {building} ({code}): {message} Expected back by "
            "{expected_restoration_at}. We are on it; there is no need to report it.",
    }),
    "incident_known": Template({
        ZH: "您的事项 {code} 已知悉：{title}（{incident}）正在处理，"
            "预计 {expected_restoration_at} 恢复，恢复后我们会回访您。",
        EN: "We know about this: {title} ({incident}) is being fixed and should be "
            "restored by {expected_restoration_at}. Your case {code} is with it; we will call you back then.",
    }),
    "incident_restored": Template({
        ZH: "{building} {title}（{code}）已恢复。原因：{root_cause}。感谢您的耐心。",
        EN: "{title} in building {building} ({code}) is restored. Cause: "
            "{root_cause}. Thank you for your patience.",
    }),
    "drill_announcement": Template(
        {
            ZH: "本楼定于 {scheduled_at} 进行{drill_type}演练（{code}），"
                "届时警报将会响起，请按工作人员指引配合。",
            EN: "A {drill_type} drill ({code}) is planned in building {building} "
                "on {scheduled_at}. The alarm will sound; please follow the staff's directions.",
        },
        choices={"drill_type": DRILL_TYPE},
    ),
    "drill_reminder": Template(
        {
            ZH: "提醒：本楼{drill_type}演练（{code}）将于明天 {scheduled_at} 进行。",
            EN: "Reminder: the {drill_type} drill ({code}) in building {building} "
                "is tomorrow, {scheduled_at}.",
        },
        choices={"drill_type": DRILL_TYPE},
    ),
    "drill_survey": Template(
        text={
            ZH: "本楼{drill_type}演练（{code}）已结束，您听到警报了吗？听到请回复1，没听到请回复2"
                "（{closes_at} 前）。",
            EN: "The {drill_type} drill ({code}) in building {building} is over. "
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
    "incident_opened": Template({
        ZH: "【事故】{building} {title}（{code}），预计 {expected_restoration_at} 恢复。"
            "相关报修将并入此事故，请组织抢修。",
        EN: "[Incident] {title} in building {building} ({code}), expected back by {expected_restoration_at}. "
            "Reports of it join this incident; please organise the repair.",
    }),
    "incident_warning": Template({
        ZH: "【预警】事故 {code}（{building} {title}）即将超过处理时限，请尽快恢复。",
        EN: "[Warning] Incident {code} ({title}, building {building}) is near its resolution deadline.",
    }),
    "owner_update": Template(
        {
            ZH: "【工单动态】您负责的工单 {code} {event}。",
            EN: "[Case update] Your case {code} {event}.",
        },
        choices={"event": OWNER_EVENT},
    ),
}
