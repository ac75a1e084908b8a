// The app's words in Chinese and English (its labels, the resident pages' among them, in text.json), and
// times in the community's time zone.

import { languages } from "./languages.js";
import TEXT from "./text.json" with { type: "json" };

export const { locale, setLocale, t, translate } = languages("steward.app.locale", TEXT);

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

export function setTimeZone(zone) {
  timeZone = zone || timeZone;
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
