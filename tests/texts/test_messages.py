"""Every message Steward sends, in both languages, names its case; a bad key or param fails at once."""

import pytest

from steward.texts.choices import ESCALATION_REASON
from steward.texts.notices import NOTICES
from steward.texts.render import TEMPLATES, TemplateError, render, required_params
from workflows.contracts import CallbackPurpose, Channel, Locale
from workflows.ladder import EscalationReason

SAMPLE = {
    "code": "RP-ABC123", "title": "Kitchen tap leaking", "building": "B1", "unit": "101",
    "response_due": "2026-11-26T02:30:00+00:00", "resolution_due": "2026-11-27T02:00:00+00:00",
    "resume_at": "2026-11-28T01:00:00+00:00", "reason": "awaiting parts", "purpose": "resolved",
    "tier": "2", "event": "escalated", "codes": "RP-ABC123, RP-DEF456", "example": "RP-ABC123",
    "plan": "a noise survey on Friday", "hearing_at": "2026-12-05T02:00:00+00:00", "place": "the club house",
    "costs": "roof 300,000.00", "total": "300,000.00", "outcome": "approved", "number": "2",
    "answer_due": "2026-11-27T02:00:00+00:00", "answer": "the fund pays half",
    "drill_type": "fire", "scheduled_at": "2026-11-30T02:00:00+00:00", "overdue": "start",
    "start_due": "2026-11-30T02:30:00+00:00", "report_due": "2026-12-01T04:00:00+00:00",
    "closes_at": "2026-12-01T04:00:00+00:00", "sign_in_code": "042317", "minutes": "5",
    "staff": "S001", "handler": "S003",
    "incident": "INC-ABC123", "message": "A water main burst.", "root_cause": "a corroded main valve",
    "expected_restoration_at": "2026-11-26T10:00:00+00:00",
    "phone": "+8613800000101", "seconds": "12", "recording": "RE0123", "path": "/call-recordings/RE0123",
    "detail": "R P A B C 1 2 3", "status": "being worked on",
}
ESCALATION = {"reason": "response_missed"}


def sample(key: str) -> dict[str, str]:
    params = {name: SAMPLE[name] for name in required_params(key)}
    return params | ({name: ESCALATION[name] for name in params if name in ESCALATION}
                     if key == "escalation" else {})


@pytest.mark.parametrize("channel", [Channel.sms, Channel.voice])
@pytest.mark.parametrize("locale", list(Locale))
@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_renders_in_both_locales_without_leftover_placeholders(key, locale, channel):
    text = render(key, locale, sample(key), channel=channel, timezone="Asia/Shanghai")
    assert text and "{" not in text and "}" not in text


@pytest.mark.parametrize("locale", list(Locale))
@pytest.mark.parametrize("key", sorted(NOTICES))
def test_every_case_notice_names_the_case_code(key, locale):
    assert "RP-ABC123" in render(key, locale, sample(key))
    assert "R P A B C 1 2 3" in render(key, locale, sample(key), channel=Channel.voice)


def test_the_two_locales_say_different_words():
    for key in TEMPLATES:
        assert render(key, Locale.zh_cn, sample(key)) != render(key, Locale.en, sample(key)), key


def test_callback_request_asks_for_1_or_2_by_sms_and_keypad_by_voice():
    params = {"code": "RP-1", "title": "Lift", "purpose": "resolved"}
    sms_en = render("callback_request", Locale.en, params)
    assert "Reply 1" in sms_en and "2" in sms_en and '"1 RP-1"' in sms_en
    assert "回复1" in render("callback_request", Locale.zh_cn, params)
    assert "press 1" in render("callback_request", Locale.en, params, channel=Channel.voice)
    assert "请按1" in render("callback_request", Locale.zh_cn, params, channel=Channel.voice)


def test_dispatch_asks_staff_to_acknowledge_with_1():
    params = {k: SAMPLE[k] for k in ("code", "title", "building", "unit", "response_due")}
    assert "reply 1 to acknowledge" in render("dispatch", Locale.en, params)
    assert "Press 1 to acknowledge" in render("dispatch", Locale.en, params, channel=Channel.voice)


@pytest.mark.parametrize("purpose", list(CallbackPurpose))
def test_every_callback_purpose_the_workflows_use_has_words(purpose):
    for locale in Locale:
        render("callback_request", locale, {"code": "RP-1", "title": "t", "purpose": purpose.value})


@pytest.mark.parametrize("reason", list(EscalationReason))
def test_every_escalation_reason_the_workflows_use_has_words(reason):
    for locale in Locale:
        text = render("escalation", locale, {"code": "RP-1", "tier": "3", "reason": reason.value})
        assert ESCALATION_REASON.values[reason.value][locale] in text


def test_times_are_written_in_the_community_time_zone():
    params = {"code": "RP-1", "resolution_due": "2026-11-27T02:00:00+00:00"}
    assert "11月27日 10:00" in render("warning", Locale.zh_cn, params, timezone="Asia/Shanghai")
    assert "27 Nov 10:00" in render("warning", Locale.en, params, timezone="Asia/Shanghai")


def test_a_pause_without_a_resume_time_says_so():
    params = {"code": "RP-1", "reason": "awaiting parts", "resume_at": ""}
    assert "to be announced" in render("case_paused", Locale.en, params)
    assert "另行通知" in render("case_paused", Locale.zh_cn, params)


def test_an_unknown_template_is_refused():
    with pytest.raises(TemplateError, match="unknown message template 'case_recieved'"):
        render("case_recieved", Locale.en, {"code": "RP-1"})


def test_a_missing_param_is_refused_by_name():
    with pytest.raises(TemplateError, match=r"needs params \['resolution_due'\]"):
        render("case_resumed", Locale.en, {"code": "RP-1"})


def test_a_value_outside_a_fixed_choice_is_refused():
    with pytest.raises(TemplateError, match="tier='7'"):
        render("escalation", Locale.en, {"code": "RP-1", "tier": "7", "reason": "other"})


def test_free_text_passes_where_the_choice_is_open():
    text = render("manual_callback_task", Locale.en, {"code": "RP-1", "reason": "resident in hospital"})
    assert "resident in hospital" in text


def test_an_unknown_locale_is_refused():
    with pytest.raises(TemplateError, match="unknown locale"):
        render("case_closed", "fr", {"code": "RP-1"})
