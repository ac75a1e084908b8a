// The app's words in Chinese and English, and times in the community's time zone.

import { RESIDENT_TEXT } from "./resident_text.js";

const LOCALE_KEY = "steward.app.locale";
export const LOCALES = ["zh-CN", "en"];

const TEXT = {
  en: {
    "nav.language": "Language", "nav.work": "My work", "nav.notices": "Notices", "nav.outbox": "To send",
    "nav.sign_out": "Sign out",
    "signin.title": "Sign in", "signin.phone": "Phone number", "signin.phone_help": "With the country code, e.g. +8613900000001.",
    "signin.send": "Send me a code", "signin.code": "6-digit code from the SMS", "signin.submit": "Sign in",
    "signin.sent": "If this number is registered, a code is on its way. It is valid for 5 minutes.",
    "signin.again": "Use another number",
    "network.offline": "Offline: what you do is kept on this phone and sent when you are back online.",
    "work.title": "My work", "work.empty": "Nothing for you right now.",
    "work.as_of": "As last seen at {time}.", "work.why.handler": "You handle it", "work.why.owner": "You own it",
    "work.why.told": "Escalated to you",
    "left": "{time} left", "overdue": "overdue by {time}", "no_deadline": "no deadline running",
    "case.back": "Back to my work", "case.reported": "What the resident reported", "case.deadlines": "Deadlines",
    "case.timeline": "Timeline", "case.actions": "Actions", "case.where": "Building {building}, unit {unit}",
    "case.response_due": "Acknowledge by", "case.resolution_due": "Resolve by", "case.device_time": "on the phone at {time}",
    "case.not_seen": "This case has not been opened on this phone while online.",
    "case.photo": "Photo {n} of the {event}",
    "action.acknowledge": "Acknowledge", "action.note": "Add a note", "action.note_text": "Note",
    "action.photos": "Photos (camera or gallery)", "action.pause": "Pause the clock", "action.reason": "Reason",
    "action.resume_at": "Resume at (optional)", "action.resume": "Resume the clock", "action.resolve": "Resolve",
    "action.resolution": "What was done (required)", "action.callback": "Record the callback",
    "action.result": "Result", "action.send": "Send",
    "result.satisfied": "Satisfied", "result.not_satisfied": "Not satisfied", "result.unreachable": "Could not reach them",
    "sent.done": "Done: {action}.", "sent.queued": "Kept on this phone: {action} will be sent when back online.",
    "sent.refused": "Refused: {reason}",
    "notices.title": "Notices", "notices.empty": "No notices yet.", "notices.unread": "Not opened",
    "notices.read": "Opened {time}", "notices.open": "Open case {code}",
    "outbox.title": "Waiting to be sent", "outbox.empty": "Everything has been sent.",
    "outbox.waiting": "waiting", "outbox.refused": "refused: {reason}", "outbox.dismiss": "Dismiss",
    "outbox.made": "done on the phone at {time}", "outbox.photos": "{n} photo(s)",
    "error.rate_limited": "Too many tries. Try again in {seconds} s.",
    "unit.d": "d", "unit.h": "h", "unit.m": "m", "unit.s": "s",
  },
  "zh-CN": {
    "nav.language": "语言", "nav.work": "我的工作", "nav.notices": "通知", "nav.outbox": "待发送",
    "nav.sign_out": "退出登录",
    "signin.title": "登录", "signin.phone": "手机号码", "signin.phone_help": "请带国家代码，例如 +8613900000001。",
    "signin.send": "发送验证码", "signin.code": "短信中的6位验证码", "signin.submit": "登录",
    "signin.sent": "如该号码已登记，验证码已发出，5分钟内有效。",
    "signin.again": "换一个号码",
    "network.offline": "当前离线：您的操作会保存在手机上，恢复网络后自动发送。",
    "work.title": "我的工作", "work.empty": "目前没有您的工单。",
    "work.as_of": "显示的是 {time} 时的内容。", "work.why.handler": "由您处理", "work.why.owner": "您是首问负责人",
    "work.why.told": "已升级给您",
    "left": "剩余 {time}", "overdue": "已超时 {time}", "no_deadline": "无进行中的时限",
    "case.back": "返回我的工作", "case.reported": "业主反映的问题", "case.deadlines": "时限",
    "case.timeline": "处理记录", "case.actions": "操作", "case.where": "{building} 栋 {unit} 室",
    "case.response_due": "确认时限", "case.resolution_due": "处理时限", "case.device_time": "手机上操作于 {time}",
    "case.not_seen": "此工单尚未在联网时于本机打开过。",
    "case.photo": "{event}的第 {n} 张照片",
    "action.acknowledge": "确认接单", "action.note": "添加进展", "action.note_text": "进展说明",
    "action.photos": "照片（拍照或相册）", "action.pause": "暂停计时", "action.reason": "原因",
    "action.resume_at": "恢复时间（可选）", "action.resume": "恢复计时", "action.resolve": "完成处理",
    "action.resolution": "处理结果（必填）", "action.callback": "登记回访结果",
    "action.result": "结果", "action.send": "提交",
    "result.satisfied": "满意", "result.not_satisfied": "不满意", "result.unreachable": "联系不上",
    "sent.done": "已完成：{action}。", "sent.queued": "已保存在手机上：恢复网络后发送“{action}”。",
    "sent.refused": "未被接受：{reason}",
    "notices.title": "通知", "notices.empty": "暂无通知。", "notices.unread": "未读",
    "notices.read": "已于 {time} 阅读", "notices.open": "打开工单 {code}",
    "outbox.title": "待发送", "outbox.empty": "全部已发送。",
    "outbox.waiting": "等待发送", "outbox.refused": "未被接受：{reason}", "outbox.dismiss": "移除",
    "outbox.made": "手机上操作于 {time}", "outbox.photos": "{n} 张照片",
    "error.rate_limited": "尝试次数过多，请 {seconds} 秒后再试。",
    "unit.d": "天", "unit.h": "小时", "unit.m": "分", "unit.s": "秒",
  },
};

for (const [language, words] of Object.entries(RESIDENT_TEXT)) Object.assign(TEXT[language], words);

const WORDS = {
  status: {
    submitted: ["submitted", "已提交"], dispatched: ["dispatched", "已派单"], acknowledged: ["acknowledged", "已接单"],
    in_progress: ["in progress", "处理中"], resolved: ["resolved", "已处理"], callback: ["callback", "回访中"],
    manual_callback: ["manual callback", "待人工回访"], closed: ["closed", "已关闭"],
  },
  severity: {
    emergency: ["emergency", "紧急"], urgent: ["urgent", "加急"], normal: ["normal", "一般"], low: ["low", "低"],
  },
  event: {
    submitted: ["submitted", "提交"], dispatched: ["dispatched", "派单"], acknowledged: ["acknowledged", "接单"],
    progress: ["note", "进展"], paused: ["paused", "暂停"], resumed: ["resumed", "恢复"],
    resolved: ["resolution", "处理完成"], escalated: ["escalated", "升级"], warned: ["warning", "预警"],
    callback_started: ["callback started", "开始回访"], callback_attempt: ["callback attempt", "回访"], callback_reply: ["callback answer", "回访答复"],
    manual_callback: ["manual callback needed", "需人工回访"], manual_callback_recorded: ["callback recorded", "回访已登记"],
    reassigned: ["reassigned", "转派"], severity_changed: ["severity changed", "等级变更"],
    extended: ["deadline extended", "延期"], reopened: ["reopened", "重新处理"], closed: ["closed", "关闭"],
    withdrawn: ["withdrawn", "撤回"], breached: ["deadline missed", "超时"],
  },
  deadline: {
    response_missed: ["acknowledge", "确认"], resolution: ["resolve", "处理"], warning: ["resolve", "处理"],
    manual_callback_missed: ["manual callback", "人工回访"],
    callback_reply: ["callback answer", "回访答复"], resume: ["resume", "恢复"],
  },
  template: {
    dispatch: ["New work order", "新工单"], escalation: ["Escalation", "升级"], warning: ["Deadline warning", "时限预警"],
    owner_update: ["Update on your case", "工单动态"], manual_callback_task: ["Manual callback", "人工回访任务"],
    drill_planned: ["Drill planned", "演练安排"], drill_report_due: ["Drill report due", "演练报告"],
    drill_escalation: ["Drill escalation", "演练升级"], objection_task: ["Hearing comment", "听证意见"],
    objection_escalation: ["Hearing comment overdue", "听证意见升级"],
  },
  action: {
    acknowledge: ["acknowledge", "确认接单"], progress: ["note", "添加进展"], pause: ["pause", "暂停计时"],
    resume: ["resume", "恢复计时"], resolve: ["resolve", "完成处理"], callback: ["record callback", "登记回访"],
  },
};

// The workflow's reasons for refusing, in Chinese (the API says them in English).
const REFUSALS = [
  [/^the case is closed$/, "工单已关闭"],
  [/^the case is in its callback; record the callback instead$/, "工单正在回访，请登记回访结果"],
  [/^the case is already resolved$/, "工单已处理完成"],
  [/^the case was withdrawn$/, "工单已被撤回"],
  [/^the case was already acknowledged by (.+)$/, "工单已由 $1 确认接单"],
  [/^acknowledge the case before pausing it$/, "请先确认接单再暂停"],
  [/^the case is already paused$/, "计时已暂停"],
  [/^resume_at must be in the future$/, "恢复时间必须在将来"],
  [/^the case is not paused$/, "计时未暂停"],
  [/^there is no callback to record: the case is not in its callback$/, "工单不在回访阶段，无需登记"],
  [/^a callback outcome was already recorded$/, "回访结果已登记"],
  [/^only staff can (.+)$/, "只有工作人员可以操作"],
  [/^case (\S+) is closed$/, "工单 $1 已关闭"],
  [/^this code is wrong or no longer valid: ask for a new one$/, "验证码错误或已失效，请重新获取"],
  [/^phone: .*$/, "请输入带国家代码的手机号码，例如 +8613900000001"],
  [/^code: .*$/, "请输入短信中的6位数字验证码"],
  [/^photos: (\S+) is not a photo you attached to case (\S+)$/, "照片 $1 不是您为工单 $2 上传的照片"],
  [/^the case is not waiting for your answer$/, "现在还不需要您回答"],
  [/^this callback was already answered$/, "这次回访已经回答过了"],
  [/^you have already answered the survey$/, "您已经回答过这次调查了"],
  [/^the drill's survey has not asked you$/, "这次调查还没有询问您"],
  [/^only the resident of this case can (.+)$/, "只有报事的住户本人可以操作"],
  [/^a case takes at most (\d+) photos from the resident$/, "每个事项最多上传$1张照片"],
  [/^this file is not an image.*$/, "该文件不是图片，请上传照片（JPEG、PNG、WebP 或 GIF）"],
];

let timeZone = "Asia/Shanghai";

export function locale() {
  const chosen = localStorage.getItem(LOCALE_KEY);
  if (LOCALES.includes(chosen)) return chosen;
  return (navigator.language || "").toLowerCase().startsWith("en") ? "en" : "zh-CN";
}

export function setLocale(value) {
  localStorage.setItem(LOCALE_KEY, value);
  document.documentElement.lang = value;
}

export function setTimeZone(zone) {
  timeZone = zone || timeZone;
}

export function t(key, params = {}) {
  const text = TEXT[locale()][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? "—").toString());
}

export function word(group, value) {
  const pair = WORDS[group]?.[value];
  return pair ? pair[locale() === "en" ? 0 : 1] : String(value ?? "—");
}

/** A refusal from the API in the person's language (the English one where no translation is known). */
export function refusal(message) {
  if (locale() === "en") return message;
  for (const [pattern, chinese] of REFUSALS) {
    if (pattern.test(message)) return message.replace(pattern, chinese);
  }
  return message;
}

export function time(value) {
  if (!value) return "—";
  return new Intl.DateTimeFormat(locale(), {
    timeZone, month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
  }).format(new Date(value));
}

/** 1d 2h, 3h 4m, 5m 6s: the two largest units. */
export function span(seconds) {
  let rest = Math.max(0, Math.floor(Math.abs(seconds)));
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n || (unit === "s" && !parts.length)) parts.push(`${n}${t(`unit.${unit}`)}`);
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

export function countdown(seconds) {
  if (seconds === null || seconds === undefined) return t("no_deadline");
  return seconds >= 0 ? t("left", { time: span(seconds) }) : t("overdue", { time: span(seconds) });
}

export function translate(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
}
