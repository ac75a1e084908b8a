"""What the Twilio webhooks answer with: keypad menus and replies to an SMS."""

from __future__ import annotations

from steward.texts.choices import EN, ZH, Template

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
        ZH: "已收到您的短信，我们会尽快处理。如需报修请使用业主应用或致电服务中心。",
        EN: "Thank you for your message; we will look into it. "
            "To report a problem, please use the resident app or call the service centre.",
    }),
    "reply.joined": Template({
        ZH: "您的补充说明已加入事项 {code}。",
        EN: "Your message has been added to case {code}.",
    }),
    "reply.report_refused": Template({
        ZH: "您的短信未能登记为事项：{reason}。已转交工作人员，紧急情况请致电服务中心。",
        EN: "Your message could not be filed as a case: {reason}. It has been "
            "passed to our staff; in an emergency, please call the service centre.",
    }),
    "reply.case_unavailable": Template({
        ZH: "事项 {code} 已不在回访阶段，您的短信已转交工作人员。",
        EN: "Case {code} is no longer awaiting your answer; your message has been "
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
        ZH: "听证会 {code} 未能登记您的意见：{reason}",
        EN: "Hearing {code} could not take your comment: {reason}",
    }),
    "sign_in_code": Template({
        ZH: "您的登录验证码为 {sign_in_code}，{minutes} 分钟内有效。请勿告诉他人。",
        EN: "Your sign-in code is {sign_in_code}. It is valid for {minutes} "
            "minutes. Do not share it.",
    }),
    "reply.opted_out": Template({
        ZH: "您已退订短信通知，回访将改为电话联系。回复START可恢复。",
        EN: "You will no longer receive SMS from us; we will call instead. "
            "Reply START to resubscribe.",
    }),
}
