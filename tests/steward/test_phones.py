"""Phone numbers (`steward/phones.py`): any way a person writes a valid number is kept in E.164, anything
else is refused with the reason; a fixed line is voice-only, in the contact every workflow reads and in
the notifier, which never hands Twilio an SMS for one."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError

from activities.directory import resident_contact_of
from activities.notify import NOT_MOBILE, Notifier
from steward.phones import InvalidPhone, is_landline, normalise, normalised_or_same
from steward.seed import STAFF, seed_demo
from steward.settings import Settings
from steward.store.models import Notification, Resident, Staff
from workflows.activity_contracts import Notice
from workflows.contracts import Channel, Locale
from workflows.messenger import resident_channel


@pytest.mark.parametrize(("written", "e164"), [
    ("+8613800000101", "+8613800000101"),
    ("138 0000 0101", "+8613800000101"),
    ("138-0000-0101", "+8613800000101"),
    ("+86 138 0000 0101", "+8613800000101"),
    ("021 5555 0100", "+862155550100"),
    ("(021) 5555-0100", "+862155550100"),
    ("+15005550006", "+15005550006"),  # Twilio's magic test numbers are valid US numbers
    ("+44 20 7946 0958", "+442079460958"),
])
def test_a_valid_number_written_any_way_is_kept_in_e164(written, e164):
    assert normalise(written) == e164


def test_a_national_number_is_read_in_the_communitys_region():
    assert normalise("(415) 555-2671", "US") == "+14155552671"
    assert normalise("138 0000 0101", "CN") == "+8613800000101"
    with pytest.raises(InvalidPhone):
        normalise("138 0000 0101", "US")


@pytest.mark.parametrize(("written", "why"), [
    ("12345", "wrong length or prefix"), ("+8612345678901", "wrong length or prefix"),
    ("+999 1234 5678", "unknown country code"), ("tel:+8613800000101", "use digits"),
    ("+8613800000101;ext=2", "use digits"), ("+861380000０１０１", "use digits"), ("", "use digits"),
    ("+8613800000101\n", "use digits"),
])
def test_anything_else_is_refused_with_the_reason_and_without_the_number(written, why):
    with pytest.raises(InvalidPhone) as refused:
        normalise(written)
    assert why in str(refused.value) and (not written or written not in str(refused.value))


def test_what_twilio_sends_is_matched_in_e164_and_a_stranger_is_kept_as_sent():
    assert normalised_or_same("+86 138 0000 0101") == "+8613800000101"
    assert normalised_or_same("Alphanumeric") == "Alphanumeric"


def test_a_fixed_line_is_a_landline_and_a_mobile_or_a_us_number_is_not():
    assert is_landline("+862155550100")
    assert not is_landline("+8613800000101")
    assert not is_landline("+14155552671")  # FIXED_LINE_OR_MOBILE: Twilio tells us if it cannot text
    assert not is_landline("not a number")


def test_every_number_the_demo_community_is_seeded_with_is_valid_and_in_e164(database):
    seed_demo(database.sessions)
    residents = [f"R{index:03d}" for index in range(1, 25)]
    with database.sessions() as session:
        numbers = [*session.scalars(select(Resident.phone).where(Resident.id.in_(residents))),
                   *session.scalars(select(Staff.phone).where(Staff.id.in_([s[0] for s in STAFF])))]
    assert len(numbers) == len(residents) + len(STAFF)
    assert all(normalise(number) == number for number in numbers)
    assert Settings(_env_file=None).phone_region == "CN"


def test_a_resident_on_a_landline_is_reached_by_voice_whatever_they_prefer():
    landline = Resident(id="R1", household_id="H1", name="Li", phone="+862155550100", locale="zh-CN",
                        preferred_channel="sms", opted_out=False, bad_channels=[])
    contact = resident_contact_of(landline)
    assert contact.bad_channels == [Channel.sms] and resident_channel(contact) is Channel.voice
    mobile = Resident(id="R2", household_id="H1", name="Li", phone="+8613800000101", locale="zh-CN",
                      preferred_channel="sms", opted_out=False, bad_channels=[])
    assert resident_channel(resident_contact_of(mobile)) is Channel.sms


async def test_the_notifier_never_hands_twilio_an_sms_for_a_landline(database):
    settings = Settings(_env_file=None, twilio_api_base_url="http://127.0.0.1:9")  # nothing listens
    notifier = Notifier(settings, database.sessions)
    notice = Notice(case_id="RP-LANDLINE1", key="RP-LANDLINE1:1", to="+862155550100", channel=Channel.sms,
                    locale=Locale.zh_cn, template="case_closed", params={"code": "RP-LANDLINE1"})
    with pytest.raises(ApplicationError) as refused:
        await notifier.send(notice)
    assert refused.value.type == "InvalidNumber" and refused.value.non_retryable
    with database.sessions() as session:
        row = session.get(Notification, notice.key)
        assert (row.status, row.error_code, row.sid) == ("failed", NOT_MOBILE, None)
    await notifier.close()
