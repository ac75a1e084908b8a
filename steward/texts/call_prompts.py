"""What the service centre's phone says to someone who calls it (issue 22): the menu, and the answers
to each key."""

from __future__ import annotations

from steward.texts.choices import EN, ZH, Template

CALL_PROMPTS: dict[str, Template] = {
    "call.menu_resident": Template({
        ZH: "您好，这里是物业服务中心。紧急情况请按1，报修或留言请按2，查询您的事项进度请按3。",
        EN: "Hello, this is the property service centre. For an emergency press 1, to report a problem "
            "press 2, to hear the progress of your cases press 3.",
    }),
    "call.menu_stranger": Template({
        ZH: "您好，这里是物业服务中心。紧急情况请按1，给工作人员留言请按2。",
        EN: "Hello, this is the property service centre. For an emergency press 1, to leave a message for "
            "our staff press 2.",
    }),
    "call.emergency_title": Template({ZH: "电话报告的紧急情况", EN: "Emergency reported by phone"}),
    "call.emergency_description": Template({
        ZH: "业主致电物业服务中心（{phone}）并按1报告紧急情况，电话已转接值班人员。",
        EN: "The resident called the service centre ({phone}) and pressed 1 for an emergency; the call "
            "was put through to the staff on duty.",
    }),
    "call.message_title": Template({ZH: "电话留言报修", EN: "Problem reported by voice message"}),
    "call.message_description": Template({
        ZH: "业主致电物业服务中心（{phone}）留言 {seconds} 秒，录音 {recording}。",
        EN: "The resident called the service centre ({phone}) and left a {seconds} s voice message, "
            "recording {recording}.",
    }),
    "call.connecting": Template({
        ZH: "正在为您接通值班人员，请稍候。", EN: "Connecting you to the staff on duty. Please hold.",
    }),
    "call.emergency_filed": Template({
        ZH: "已为您登记紧急报修，编号 {code}。", EN: "Your emergency is registered as case {code}.",
    }),
    "call.nobody_answered": Template({
        ZH: "抱歉，值班人员暂时无法接听。我们已收到您的紧急情况，会尽快与您联系。再见。",
        EN: "Sorry, nobody on duty could answer. We have your emergency and will call you back as soon as "
            "possible. Goodbye.",
    }),
    "call.whisper": Template({
        ZH: "物业服务中心紧急来电。{detail}", EN: "Emergency call to the service centre. {detail}",
    }),
    "call.whisper_case": Template({
        ZH: "工单 {code} 已由您负责。", EN: "Case {code} is now yours.",
    }),
    "call.record_prompt": Template({
        ZH: "请在提示音后说明情况，说完请按井号键。",
        EN: "Please describe the problem after the tone, then press the hash key.",
    }),
    "call.reported": Template({
        ZH: "您的报修已登记，事项编号 {code}。我们会尽快处理。再见。",
        EN: "Your report is registered as case {code}. We will deal with it soon. Goodbye.",
    }),
    "call.report_refused": Template({
        ZH: "抱歉，您的留言未能登记为事项，已转交工作人员。再见。",
        EN: "Sorry, your message could not be registered as a case; it has been passed to our staff. "
            "Goodbye.",
    }),
    "call.message_kept": Template({
        ZH: "您的留言已转交工作人员，谢谢。再见。",
        EN: "Your message has been passed to our staff. Thank you. Goodbye.",
    }),
    "call.no_open_cases": Template({
        ZH: "您目前没有进行中的事项。再见。", EN: "You have no open cases. Goodbye.",
    }),
    "call.open_case": Template({
        ZH: "事项 {code}：{title}，{status}。", EN: "Case {code}: {title}, {status}.",
    }),
    "call.status.submitted": Template({ZH: "已受理，等待派单", EN: "received, waiting for a handler"}),
    "call.status.dispatched": Template({ZH: "已派单", EN: "assigned to a handler"}),
    "call.status.acknowledged": Template({ZH: "处理人员已接单", EN: "accepted by the handler"}),
    "call.status.in_progress": Template({ZH: "正在处理", EN: "being worked on"}),
    "call.stranger_message": Template({
        ZH: "来电留言（{phone}，{seconds} 秒）：{path}", EN: "Voice message ({phone}, {seconds} s): {path}",
    }),
}
