"""Every SMS a resident gets fits in one or two segments, in both languages, with every field at its longest
and the carriers' signature in front; people's own words in it are cut with an ellipsis to fit. The
counter counts as carriers do (GSM-7 septets, or UCS-2 code units)."""

from __future__ import annotations

import pytest

from steward.settings import Settings
from steward.texts.carriers import signed, sms_signature
from steward.texts.choices import FREE_TEXT
from steward.texts.render import TEMPLATES, render, required_params
from steward.texts.segments import SegmentCount, count, segments, shortened
from workflows.contracts import Channel, Locale

SIGNATURES = Settings(sms_signature_zh="【物业服务中心】", sms_signature_en="[Property Service Centre]")

RESIDENT_SMS = frozenset({
    "case_received", "case_acknowledged", "case_paused", "case_resumed", "deadline_changed", "case_withdrawn",
    "callback_request", "callback_thanks", "case_reopened", "case_closed", "complaint_plan_agreed",
    "question_answered", "hearing_notice", "hearing_reminder", "hearing_decision", "objection_received",
    "objection_answer", "drill_announcement", "drill_reminder", "drill_survey", "reply.ask_for_code",
    "reply.unmatched", "reply.joined", "reply.report_refused", "reply.case_unavailable",
    "reply.objection_refused", "reply.opted_out", "sign_in_code", "incident_notice", "incident_known",
    "incident_restored",
})
STAFF_SMS = frozenset({
    "drill_planned", "drill_report_due", "drill_escalation", "objection_task", "objection_escalation",
    "dispatch", "escalation", "warning", "manual_callback_task", "staff_left", "owner_update",
    "reply.ask_for_ack_code", "reply.acknowledged", "reply.ack_failed", "reply.nothing_to_acknowledge",
    "incident_opened", "incident_warning",
})
# Said on a call, or the title and description of the case a call files: never an SMS.
VOICE_ONLY = frozenset(key for key in TEMPLATES if key.startswith(("voice.", "call.")))

# The longest of each: ids at the directory's 32 characters, codes in their longest form (a drill a
# schedule made names its building and time), times on the longest day, money at 14 digits times 50 items.
ID = "B" * 32
LONGEST_CODE = {"hearing": "HR-4QZ7N2WK4M", "drill": f"DR-{ID}-security-2026-12-31T155900Z",
                "request": "RP-4QZ7N2WK4M", "incident": "INC-4QZ7N2WK4M"}
LATEST = "2026-12-31T15:59:00+00:00"
FIXED = {
    "building": ID, "unit": ID, "staff": ID, "handler": ID, "number": "99999",
    "total": "49,999,999,999,999.50", "sign_in_code": "999999", "minutes": "15",
    "example": LONGEST_CODE["request"], "incident": LONGEST_CODE["incident"],
}
WORDS = {"latin": "Water keeps dripping from the ceiling ", "chinese": "厨房水龙头一直漏水，晚上也滴个不停",
         "emoji": "漏水😀"}
LONGEST_FREE = {"title": 200, "reason": 4000, "plan": 4000, "answer": 4000, "place": 200,
                "costs": 50 * 220, "codes": 20 * 15, "message": 4000, "root_cause": 4000}


def code_for(key: str) -> str:
    kinds = {"hearing": "hearing", "objection": "hearing", "drill": "drill", "incident": "incident"}
    kind = next((kinds[word] for word in kinds if word in key), "request")
    return LONGEST_CODE[kind]


def longest(key: str, locale: Locale, words: str) -> dict[str, str]:
    """Every param of `key` at its longest; a choice at its longest phrase in `locale`."""
    template = TEMPLATES[key]
    params = {}
    for name in required_params(key):
        if name in template.choices:
            values = template.choices[name].values
            params[name] = max(values, key=lambda value: len(values[value][locale]))
        elif name in FREE_TEXT:
            params[name] = (words * LONGEST_FREE[name])[:LONGEST_FREE[name]]
        elif name == "code":
            params[name] = code_for(key)
        elif name.endswith(("_due", "_at")):
            params[name] = LATEST
        else:
            params[name] = FIXED[name]
    return params


def sms(key: str, locale: Locale, params: dict[str, str]) -> str:
    return render(key, locale, params, timezone="Asia/Shanghai", signature=sms_signature(SIGNATURES, locale))


def test_every_template_is_either_a_residents_or_a_staff_sms_or_spoken_only():
    assert RESIDENT_SMS | STAFF_SMS | VOICE_ONLY == set(TEMPLATES)
    assert not RESIDENT_SMS & STAFF_SMS


@pytest.mark.parametrize("words", sorted(WORDS))
@pytest.mark.parametrize("locale", list(Locale))
@pytest.mark.parametrize("key", sorted(RESIDENT_SMS))
def test_every_resident_sms_fits_two_segments_with_every_field_at_its_longest(key, locale, words):
    params = longest(key, locale, WORDS[words])
    text = sms(key, locale, params)
    assert segments(text) <= 2, (count(text), text)
    assert text.startswith(sms_signature(SIGNATURES, locale))
    if "code" in params:
        assert params["code"] in text


@pytest.mark.parametrize("key", sorted(RESIDENT_SMS | STAFF_SMS))
def test_an_english_sms_in_latin_letters_stays_gsm_7(key):
    """One stray character outside GSM 03.38 (a dash, a curly quote) would halve every segment."""
    params = longest(key, Locale.en, WORDS["latin"])
    assert count(sms(key, Locale.en, params)).encoding == "GSM-7"


# --- the counter, against what carriers bill ------------------------------------------------------


@pytest.mark.parametrize(("text", "encoding", "units", "parts"), [
    ("", "GSM-7", 0, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),  # the extension table: an escape and the character
    ("€" * 81, "GSM-7", 162, 2),
    ("a" * 159 + "[", "GSM-7", 161, 2),
    ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¡ÄÖÑÜ§¿äöñüà", "GSM-7", 41, 1),
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # an escape is never split from its character
    ("水" * 70, "UCS-2", 70, 1),
    ("水" * 71, "UCS-2", 71, 2),
    ("水" * 134, "UCS-2", 134, 2),
    ("水" * 135, "UCS-2", 135, 3),
    ("a" * 159 + "水", "UCS-2", 160, 3),  # one character outside GSM makes the whole text UCS-2
    ("😀", "UCS-2", 2, 1),  # a surrogate pair: two UTF-16 code units
    ("😀" * 35, "UCS-2", 70, 1),
    ("😀" * 36, "UCS-2", 72, 2),
    ("a" * 66 + "😀" + "a" * 66, "UCS-2", 134, 3),  # nor a surrogate pair
    ("…", "UCS-2", 1, 1),
])
def test_the_counter_counts_as_carriers_do(text, encoding, units, parts):
    assert count(text) == SegmentCount(encoding, units, parts)
    assert segments(text) == parts


# --- cutting people's words to fit ----------------------------------------------------------------


def test_a_long_answer_is_cut_with_an_ellipsis_and_the_rest_of_the_message_kept():
    answer = "维修基金" * 1000
    text = sms("question_answered", Locale.zh_cn, {"code": "RP-4QZ7N2WK4M", "answer": answer})
    assert segments(text) == 2 and text.endswith("…")
    assert text.startswith("【物业服务中心】关于您的咨询 RP-4QZ7N2WK4M，答复如下：维修基金维修基金")
    assert count(text).units == 134  # as much of the answer as two segments hold


def test_an_english_cut_ends_in_three_dots_so_the_text_stays_gsm_7():
    answer = "The maintenance fund pays half of the cost. " * 100
    text = sms("question_answered", Locale.en, {"code": "RP-4QZ7N2WK4M", "answer": answer})
    assert text.endswith("...") and count(text).encoding == "GSM-7" and segments(text) == 2
    assert text.startswith("[Property Service Centre] The answer to your question RP-4QZ7N2WK4M: The ")


def test_a_short_field_is_never_cut_for_a_long_one():
    params = {"code": "CP-4QZ7N2WK4M", "plan": "每周五测量噪音" * 500, "reason": "需要两次测量",
              "resolution_due": LATEST}
    text = sms("complaint_plan_agreed", Locale.zh_cn, params)
    assert segments(text) == 2 and text.endswith("原因：需要两次测量。") and "…。处理时限" in text


def test_a_message_that_fits_is_sent_whole():
    text = sms("question_answered", Locale.zh_cn, {"code": "RP-1", "answer": "周五上午九点停水。"})
    assert text == "【物业服务中心】关于您的咨询 RP-1，答复如下：周五上午九点停水。"


def test_an_english_case_titled_in_chinese_still_fits():
    """Chinese words make an English text UCS-2, where its fixed words alone need three segments: the
    title gives way, the code and the question stay."""
    params = {"code": "RP-4QZ7N2WK4M", "title": "厨房水龙头漏水", "purpose": "resolved"}
    text = sms("callback_request", Locale.en, params)
    assert segments(text) <= 2 and "RP-4QZ7N2WK4M" in text and "Reply 1" in text


def test_the_cut_keeps_whole_characters_and_counts_an_emoji_as_two():
    text = shortened(lambda v: "答复：" + v["answer"], {"answer": "😀" * 100}, ["answer"])
    assert count(text) == SegmentCount("UCS-2", 134, 2) and text == "答复：" + "😀" * 65 + "…"


# --- the signature --------------------------------------------------------------------------------


def test_the_signature_goes_first_in_each_language_and_never_into_a_call():
    assert signed("【物业服务中心】", "您好") == "【物业服务中心】您好"
    assert signed("[Property Service Centre]", "Hello") == "[Property Service Centre] Hello"
    assert signed("", "Hello") == "Hello"
    params, signature = {"code": "RP-1"}, "【物业服务中心】"
    assert render("case_closed", Locale.zh_cn, params, signature=signature).startswith("【物业服务中心】您的")
    spoken = render("callback_thanks", Locale.zh_cn, params, channel=Channel.voice, signature=signature)
    assert "【" not in spoken


def test_signatures_are_per_language_and_empty_by_default():
    assert (Settings().sms_signature_zh, Settings().sms_signature_en) == ("", "")
    assert sms_signature(SIGNATURES, Locale.zh_cn) == "【物业服务中心】"
    assert sms_signature(SIGNATURES, Locale.en) == "[Property Service Centre]"
