// The console's two languages: its own labels here, the domain's words (statuses, severities…) from
// the server, the same the case history uses. Times are shown in the community's time zone.

const LOCALE_KEY = "steward.console.locale";
export const LOCALES = ["zh-CN", "en"];

const TEXT = {
  en: {
    "nav.board": "Board", "nav.reports": "Reports", "nav.sign_out": "Sign out", "nav.language": "Language",
    "login.title": "Supervisor sign-in",
    "login.token": "Token",
    "login.help": "Paste a supervisor's token: from “steward token create --role supervisor --subject STAFF-ID”, or the TOKEN supervisor line that make dev prints.",
    "login.submit": "Sign in",
    "login.refused": "Only supervisors can use the console: this token is not a supervisor's.",
    "login.unknown": "This token is unknown or has been revoked.",
    "login.failed": "Cannot sign in: {message}",
    "login.by_phone": "Or sign in with your phone", "login.phone": "Phone number",
    "login.send_code": "Send me a code", "login.code": "6-digit code from the SMS",
    "login.code_sent": "If this number is registered, a code is on its way (valid 5 minutes).",
    "state.on_time": "On time", "state.warning": "Warning", "state.breached": "Breached", "state.paused": "Paused",
    "board.title": "Open cases",
    "board.at_risk": "At risk — a deadline is running, least time left first",
    "board.others": "Other open cases — no deadline running",
    "board.empty": "No open case matches.",
    "board.updated": "Updated {time}",
    "board.unreachable": "Cannot reach Steward: {message}",
    "board.more": "Show more open cases",
    "board.summary": "{total} open cases, {breached} breached.",
    "picture.untrustworthy": "This board cannot be trusted right now:",
    "picture.no_worker": "No worker is polling Steward's task queue: deadlines are not being acted on.",
    "picture.read_model_behind": "Recent cases are missing here: the read model is behind the workflows.",
    "picture.deadlines_not_acted_on": "Some deadlines passed over a minute ago and nothing was done about them.",
    "picture.temporal_unreachable": "Temporal cannot be reached.",
    "nav.hearings": "Hearings", "nav.drills": "Drills", "nav.queues": "Queues",
    "duties.refresh": "Refresh", "duties.none": "Nothing here.",
    "hearings.title": "Hearings — what is due next",
    "hearings.awaiting": "Objections awaiting a written answer", "hearings.all": "All hearings",
    "drills.title": "Drills — what is due next",
    "drills.not_started": "Drills nobody has started", "drills.report_overdue": "Reports overdue",
    "drills.all": "All drills",
    "duty.hearing": "Hearing", "duty.title": "Title", "duty.date": "Date", "duty.objections": "Open / objections",
    "duty.answer_due": "Next answer due", "duty.deadline": "Next deadline", "duty.status": "Stage",
    "duty.outcome": "Decision", "duty.drill": "Drill", "duty.type": "Type", "duty.start_due": "Start by",
    "duty.steps": "Steps done", "duty.participation": "Participants", "duty.findings": "Findings",
    "duty.report_due": "Report due", "duty.survey": "Heard / not heard",
    "hearing.scheduled": "scheduled", "hearing.noticed": "notice sent", "hearing.held": "held",
    "hearing.decided": "decided", "hearing.callback": "calling objectors back", "hearing.closed": "closed",
    "outcome.approved": "approved", "outcome.rejected": "rejected", "outcome.revised": "revised",
    "drill.fire": "Fire", "drill.flood": "Flood", "drill.security": "Security", "drill.planned": "planned",
    "drill.announced": "announced", "drill.started": "started", "drill.completed": "completed",
    "drill.closed": "closed",
    "queues.title": "Waiting on a person",
    "queues.manual": "Manual callbacks awaiting someone", "queues.sms": "SMS no case took",
    "queues.unread": "App notices unread for over {minutes} minutes",
    "queue.case": "Case", "queue.what": "What", "queue.place": "Where", "queue.owner": "Owner",
    "queue.tier": "Tier", "queue.deadline": "Pages up at", "queue.from": "From", "queue.text": "Text",
    "queue.received": "Received", "queue.outcome": "Why", "queue.action": "Attach to a case",
    "queue.assign_to": "Case", "queue.assign": "Attach", "queue.assigned": "Attached to {case}.",
    "queue.recipient": "For", "queue.notice": "Notice", "queue.sent": "Sent", "queue.unread": "Unread",
    "queue.minutes": "{minutes} min",
    "sms.unmatched": "no case matched", "sms.ambiguous": "several cases matched",
    "sms.unknown_code": "unknown code", "sms.case_unavailable": "case not available",
    "filter.kind": "Kind", "filter.severity": "Severity", "filter.building": "Building", "filter.tier": "Tier",
    "filter.owner": "Owner", "filter.any": "All", "filter.clear": "Clear filters",
    "col.state": "State", "col.deadline": "Next deadline", "col.left": "Time left", "col.case": "Case",
    "col.what": "What", "col.severity": "Severity", "col.place": "Where", "col.status": "Stage",
    "col.tier": "Tier", "col.owner": "Owner", "col.handler": "Handler", "col.time": "Time",
    "col.channel": "Channel", "col.to": "To", "col.text": "Text", "col.delivery": "Delivery",
    "col.actor": "Who", "col.device": "On the device", "col.event": "What happened",
    "col.week": "Week of", "col.category": "Category", "col.cases": "Cases",
    "col.response_met": "Response met", "col.response_missed": "Response missed",
    "col.response_rate": "Response on time", "col.resolution_met": "Resolution met",
    "col.resolution_missed": "Resolution missed", "col.resolution_rate": "Resolution on time",
    "col.level": "Level", "col.building": "Building", "col.unit": "Unit", "col.open": "Open",
    "col.breached": "Breached", "col.reopened": "Reopened", "col.last": "Latest",
    "col.callbacks": "Callbacks", "col.satisfied": "Satisfied", "col.not_satisfied": "Not satisfied",
    "col.unreachable": "Unreachable", "col.rate": "Satisfaction", "col.staff": "Staff member",
    "col.owned": "Owned", "col.resolved": "Resolved", "col.breaches": "Breaches",
    "col.reopen_rate": "Reopen rate", "col.median_response": "Median response",
    "time.overdue": "{time} overdue", "time.none": "—",
    "case.back": "← Board", "case.loading": "Loading…", "case.temporal": "Open in the Temporal UI",
    "case.facts": "Case", "case.deadlines": "Deadlines", "case.callback": "Callback",
    "case.messages": "Messages and calls", "case.timeline": "Timeline", "case.actions": "Supervisor actions",
    "case.closed": "The case is closed: nothing more can be changed.",
    "case.no_messages": "No message or call yet.",
    "fact.status": "Stage", "fact.severity": "Severity", "fact.kind": "Kind", "fact.category": "Category",
    "fact.place": "Where", "fact.owner": "Owner (first contact)", "fact.handler": "Handler", "fact.tier": "Tier",
    "fact.submitted": "Submitted", "fact.response_due": "Response due", "fact.resolution_due": "Resolution due",
    "fact.next_deadline": "Next deadline", "fact.paused_total": "Time paused", "fact.reopened": "Reopened",
    "fact.escalations": "Escalations", "fact.resident": "Resident",
    "flag.met": "met", "flag.missed": "missed", "flag.warned": "warning sent", "flag.paused": "paused now",
    "callback.none": "No callback outcome yet.",
    "callback.attempt": "Callback attempt {attempt} is under way.",
    "callback.outcome": "{result} — by {channel}, after {attempts} attempt(s); recorded by {by} at {at}",
    "callback.note": "Note: {note}",
    "action.reassign": "Reassign the work", "action.severity": "Change the severity",
    "action.extend": "Extend the resolution deadline", "action.callback": "Record the callback",
    "field.handler": "New handler", "field.reason": "Reason", "field.severity": "Severity",
    "field.hours": "By (hours)", "field.result": "Result", "field.note": "Note",
    "field.reached_by": "Reached by", "reached.phone": "Phone call", "reached.visit": "Visit",
    "field.callback_reason": "Reason (a supervisor recording while the resident is still asked)",
    "action.submit": "Apply", "action.done": "Done: {action}.", "action.working": "Sending…",
    "action.callback_only": "Recording a callback is possible only while the case is in its callback.",
    "reports.title": "Reports", "report.sla": "Deadline compliance", "report.hotspots": "Hotspots",
    "report.satisfaction": "Satisfaction", "report.staff": "Staff",
    "field.since": "From", "field.until": "To", "field.min_cases": "At least (cases)",
    "field.building": "Building", "reports.show": "Show", "reports.csv": "Download CSV",
    "reports.empty": "Nothing in this period.",
    "reports.period": "{since} to {until} ({timezone})",
    "sla.overall": "All cases", "sla.by_week": "By week", "sla.by_category": "By category",
    "hotspots.list": "Repeated cases",
    "satisfaction.overall": "All callbacks", "satisfaction.by_category": "By category",
    "satisfaction.by_staff": "By owner",
    "staff.list": "By owner (first contact)",
    "chart.response": "Response on time", "chart.resolution": "Resolution on time",
    "chart.cases": "Cases", "chart.median_minutes": "Median response (minutes)",
    "level.building": "Building", "level.unit": "Unit", "level.category": "Category in building",
    "unit.d": "d", "unit.h": "h", "unit.m": "m", "unit.s": "s",
    "delivery.pending": "pending", "delivery.queued": "queued", "delivery.sending": "sending",
    "delivery.sent": "sent", "delivery.delivered": "delivered", "delivery.undelivered": "undelivered",
    "delivery.failed": "failed", "delivery.ringing": "ringing", "delivery.in-progress": "on the line",
    "delivery.completed": "answered", "delivery.busy": "busy", "delivery.no-answer": "no answer",
    "delivery.canceled": "cancelled", "delivery.app": "in the app",
  },
  "zh-CN": {
    "nav.board": "看板", "nav.reports": "报表", "nav.sign_out": "退出", "nav.language": "语言",
    "login.title": "主管登录",
    "login.token": "令牌",
    "login.help": "请粘贴主管令牌：由“steward token create --role supervisor --subject 员工编号”生成，或使用 make dev 输出的 TOKEN supervisor 一行。",
    "login.submit": "登录",
    "login.refused": "仅主管可以使用控制台：此令牌不属于主管。",
    "login.unknown": "令牌无效或已被撤销。",
    "login.failed": "无法登录：{message}",
    "login.by_phone": "或用手机号登录", "login.phone": "手机号码",
    "login.send_code": "发送验证码", "login.code": "短信中的6位验证码",
    "login.code_sent": "如该号码已登记，验证码已发出（5分钟内有效）。",
    "state.on_time": "正常", "state.warning": "预警", "state.breached": "已超时", "state.paused": "已暂停",
    "board.title": "在办工单",
    "board.at_risk": "风险工单——时限计时中，剩余时间最少的在前",
    "board.others": "其他在办工单——暂无计时",
    "board.empty": "没有符合条件的在办工单。",
    "board.updated": "更新于 {time}",
    "board.unreachable": "无法连接 Steward：{message}",
    "board.more": "显示更多在办工单",
    "board.summary": "在办 {total} 件，已超时 {breached} 件。",
    "picture.untrustworthy": "此看板目前不可信：",
    "picture.no_worker": "没有工作进程在处理 Steward 的任务队列：时限到了也无人处理。",
    "picture.read_model_behind": "最近的工单未显示：读模型落后于流程。",
    "picture.deadlines_not_acted_on": "有时限已过一分钟以上却未被处理。",
    "picture.temporal_unreachable": "无法连接 Temporal。",
    "nav.hearings": "听证会", "nav.drills": "演练", "nav.queues": "待办队列",
    "duties.refresh": "刷新", "duties.none": "暂无。",
    "hearings.title": "听证会——即将到期的事项",
    "hearings.awaiting": "待书面答复的异议", "hearings.all": "全部听证会",
    "drills.title": "演练——即将到期的事项",
    "drills.not_started": "尚未开始的演练", "drills.report_overdue": "报告已逾期",
    "drills.all": "全部演练",
    "duty.hearing": "听证会", "duty.title": "标题", "duty.date": "日期", "duty.objections": "未答复 / 异议",
    "duty.answer_due": "最早答复期限", "duty.deadline": "下一时限", "duty.status": "阶段",
    "duty.outcome": "决定", "duty.drill": "演练", "duty.type": "类型", "duty.start_due": "最迟开始",
    "duty.steps": "已完成步骤", "duty.participation": "参与人数", "duty.findings": "发现问题",
    "duty.report_due": "报告期限", "duty.survey": "听到 / 未听到",
    "hearing.scheduled": "已安排", "hearing.noticed": "已通知", "hearing.held": "已召开",
    "hearing.decided": "已决定", "hearing.callback": "回访异议人中", "hearing.closed": "已结束",
    "outcome.approved": "通过", "outcome.rejected": "否决", "outcome.revised": "修改后通过",
    "drill.fire": "消防", "drill.flood": "防汛", "drill.security": "安防", "drill.planned": "已计划",
    "drill.announced": "已通知", "drill.started": "进行中", "drill.completed": "已完成",
    "drill.closed": "已结束",
    "queues.title": "等待人工处理",
    "queues.manual": "待人工回访", "queues.sms": "无法匹配工单的短信",
    "queues.unread": "超过 {minutes} 分钟未读的应用通知",
    "queue.case": "工单", "queue.what": "内容", "queue.place": "位置", "queue.owner": "首问负责人",
    "queue.tier": "层级", "queue.deadline": "升级时间", "queue.from": "发送号码", "queue.text": "内容",
    "queue.received": "收到时间", "queue.outcome": "原因", "queue.action": "关联到工单",
    "queue.assign_to": "工单", "queue.assign": "关联", "queue.assigned": "已关联到 {case}。",
    "queue.recipient": "接收人", "queue.notice": "通知", "queue.sent": "发送时间", "queue.unread": "未读时长",
    "queue.minutes": "{minutes} 分钟",
    "sms.unmatched": "未匹配到工单", "sms.ambiguous": "匹配到多个工单",
    "sms.unknown_code": "编号无效", "sms.case_unavailable": "工单不可用",
    "filter.kind": "类型", "filter.severity": "紧急程度", "filter.building": "楼栋", "filter.tier": "层级",
    "filter.owner": "负责人", "filter.any": "全部", "filter.clear": "清除筛选",
    "col.state": "状态", "col.deadline": "下一时限", "col.left": "剩余时间", "col.case": "工单",
    "col.what": "事项", "col.severity": "紧急程度", "col.place": "位置", "col.status": "进度",
    "col.tier": "层级", "col.owner": "负责人", "col.handler": "处理人", "col.time": "时间",
    "col.channel": "方式", "col.to": "接收人", "col.text": "内容", "col.delivery": "送达状态",
    "col.actor": "操作人", "col.device": "设备时间", "col.event": "经过",
    "col.week": "周（起始日）", "col.category": "类别", "col.cases": "件数",
    "col.response_met": "响应达标", "col.response_missed": "响应超时",
    "col.response_rate": "响应达标率", "col.resolution_met": "处理达标",
    "col.resolution_missed": "处理超时", "col.resolution_rate": "处理达标率",
    "col.level": "范围", "col.building": "楼栋", "col.unit": "房号", "col.open": "未办结",
    "col.breached": "超时", "col.reopened": "重开", "col.last": "最近提交",
    "col.callbacks": "回访数", "col.satisfied": "满意", "col.not_satisfied": "不满意",
    "col.unreachable": "联系不上", "col.rate": "满意率", "col.staff": "员工",
    "col.owned": "首问件数", "col.resolved": "已处理", "col.breaches": "超时件数",
    "col.reopen_rate": "重开率", "col.median_response": "响应时间中位数",
    "time.overdue": "已超 {time}", "time.none": "—",
    "case.back": "← 返回看板", "case.loading": "加载中…", "case.temporal": "在 Temporal UI 中查看",
    "case.facts": "工单", "case.deadlines": "时限", "case.callback": "回访",
    "case.messages": "短信与电话", "case.timeline": "处理记录", "case.actions": "主管操作",
    "case.closed": "工单已办结，不能再修改。",
    "case.no_messages": "暂无短信或电话。",
    "fact.status": "进度", "fact.severity": "紧急程度", "fact.kind": "类型", "fact.category": "类别",
    "fact.place": "位置", "fact.owner": "首问负责人", "fact.handler": "处理人", "fact.tier": "层级",
    "fact.submitted": "提交时间", "fact.response_due": "响应时限", "fact.resolution_due": "处理时限",
    "fact.next_deadline": "下一时限", "fact.paused_total": "累计暂停", "fact.reopened": "重开次数",
    "fact.escalations": "升级次数", "fact.resident": "住户",
    "flag.met": "已达标", "flag.missed": "已超时", "flag.warned": "已预警", "flag.paused": "暂停中",
    "callback.none": "暂无回访结果。",
    "callback.attempt": "正在进行第 {attempt} 次回访。",
    "callback.outcome": "{result}——{channel}，共 {attempts} 次；{by} 于 {at} 记录",
    "callback.note": "说明：{note}",
    "action.reassign": "转派", "action.severity": "调整紧急程度",
    "action.extend": "延长处理时限", "action.callback": "记录回访结果",
    "field.handler": "新处理人", "field.reason": "原因", "field.severity": "紧急程度",
    "field.hours": "延长（小时）", "field.result": "结果", "field.note": "说明",
    "field.reached_by": "回访方式", "reached.phone": "电话", "reached.visit": "上门",
    "field.callback_reason": "理由（住户仍在被询问时由主管记录）",
    "action.submit": "提交", "action.done": "已完成：{action}。", "action.working": "提交中…",
    "action.callback_only": "只有在回访阶段才能记录回访结果。",
    "reports.title": "报表", "report.sla": "时限达标", "report.hotspots": "高发问题",
    "report.satisfaction": "满意度", "report.staff": "员工",
    "field.since": "从", "field.until": "至", "field.min_cases": "至少（件）",
    "field.building": "楼栋", "reports.show": "查询", "reports.csv": "下载 CSV",
    "reports.empty": "该时段没有数据。",
    "reports.period": "{since} 至 {until}（{timezone}）",
    "sla.overall": "全部工单", "sla.by_week": "按周", "sla.by_category": "按类别",
    "hotspots.list": "重复发生",
    "satisfaction.overall": "全部回访", "satisfaction.by_category": "按类别",
    "satisfaction.by_staff": "按负责人",
    "staff.list": "按首问负责人",
    "chart.response": "响应达标率", "chart.resolution": "处理达标率",
    "chart.cases": "件数", "chart.median_minutes": "响应时间中位数（分钟）",
    "level.building": "楼栋", "level.unit": "住户", "level.category": "楼栋内类别",
    "unit.d": "天", "unit.h": "小时", "unit.m": "分", "unit.s": "秒",
    "delivery.pending": "待发送", "delivery.queued": "排队中", "delivery.sending": "发送中",
    "delivery.sent": "已发出", "delivery.delivered": "已送达", "delivery.undelivered": "未送达",
    "delivery.failed": "失败", "delivery.ringing": "振铃中", "delivery.in-progress": "通话中",
    "delivery.completed": "已接听", "delivery.busy": "占线", "delivery.no-answer": "无人接听",
    "delivery.canceled": "已取消", "delivery.app": "应用内",
  },
};

let vocabulary = {};
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

/** The words of the domain and the community's time zone, from /console/api/session. */
export function setVocabulary(words, zone) {
  vocabulary = words || {};
  timeZone = zone || timeZone;
}

export function communityTimeZone() {
  return timeZone;
}

/** A console label, with {name} filled from `params`. */
export function t(key, params = {}) {
  const text = TEXT[locale()][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? "—").toString());
}

/** A first page's `total`: "10,000+" when the count stopped at its bound (`total_at_least`). */
export function total(page) {
  if (page.total === null || page.total === undefined) return t("time.none");
  const number = new Intl.NumberFormat(locale()).format(page.total);
  return page.total_at_least ? `${number}+` : number;
}

/** A word of the domain (a status, severity, channel…), as the case history says it. */
export function word(group, value) {
  if (value === null || value === undefined || value === "") return t("time.none");
  return vocabulary[group]?.[String(value)]?.[locale()] ?? String(value);
}

/** Fill every [data-i18n] element under `root` with its label. */
export function translate(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
}

function formatter(options) {
  return new Intl.DateTimeFormat(locale() === "en" ? "en-GB" : "zh-CN", { timeZone, hour12: false, ...options });
}

/** A moment in community time, e.g. 2026/11/26 10:03. */
export function when(iso, { seconds = false } = {}) {
  if (!iso) return t("time.none");
  return formatter({
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: seconds ? "2-digit" : undefined,
  }).format(new Date(iso));
}

/** A span of time, e.g. 3h 05m or 3小时05分; `null` reads as a dash. */
export function span(totalSeconds) {
  if (totalSeconds === null || totalSeconds === undefined) return t("time.none");
  let left = Math.round(Math.abs(totalSeconds));
  const days = Math.floor(left / 86400);
  left -= days * 86400;
  const hours = Math.floor(left / 3600);
  left -= hours * 3600;
  const minutes = Math.floor(left / 60);
  const secs = left - minutes * 60;
  const two = (n) => String(n).padStart(2, "0");
  const [d, h, m, s] = ["unit.d", "unit.h", "unit.m", "unit.s"].map((key) => t(key));
  const gap = locale() === "en" ? " " : "";
  if (days) return `${days}${d}${gap}${hours}${h}`;
  if (hours) return `${hours}${h}${gap}${two(minutes)}${m}`;
  return `${minutes}${m}${gap}${two(secs)}${s}`;
}

/** Time left to a deadline; past it, how long overdue. */
export function countdown(secondsLeft) {
  if (secondsLeft === null || secondsLeft === undefined) return t("time.none");
  return secondsLeft < 0 ? t("time.overdue", { time: span(secondsLeft) }) : span(secondsLeft);
}

export function percent(rate) {
  if (rate === null || rate === undefined) return t("time.none");
  return `${(rate * 100).toFixed(1)}%`;
}
