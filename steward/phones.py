"""Phone numbers as the directory keeps them: parsed with `phonenumbers`, written in E.164.

A number may come in national form ("138 0000 0101", "021 5555 0100") for the community's region
(`STEWARD_PHONE_REGION`, CN by default) or international ("+86 138 0000 0101"); either way it is kept
and matched as E.164 ("+8613800000101"), so a resident is found whatever way the number was typed or
Twilio wrote it. A fixed line cannot take an SMS: it is reached by voice only. Where a number could be
either (FIXED_LINE_OR_MOBILE, as in the US and Canada) it is taken as able to text; Twilio's "not a
mobile number" answer then marks its SMS channel bad, as for any number.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from steward.settings import Settings

DEFAULT_REGION = "CN"
WRITTEN = re.compile(r"^\+?[0-9 ().-]{3,30}$")
"""How a person may write a number: digits, spaces, dashes, dots, brackets and a leading +. Nothing
else, so a letter, a full-width digit, a `tel:` or an extension is refused rather than guessed at."""


class InvalidPhone(ValueError):
    """Not a phone number that can be dialled: the message says why, without the number."""


@lru_cache(maxsize=1)
def community_region() -> str:
    """`STEWARD_PHONE_REGION`, read once per process: the API reads a number at its boundary, before
    any request's settings are at hand."""
    return Settings().phone_region


def normalise(text: str, region: str = DEFAULT_REGION) -> str:
    """`text` as E.164, or `InvalidPhone`."""
    if not WRITTEN.fullmatch(text):
        raise InvalidPhone("not a valid phone number: use digits, spaces, dashes, dots, brackets and a "
                           "leading +")
    try:
        number = phonenumbers.parse(text, region.upper())
    except NumberParseException as error:
        raise InvalidPhone(f"not a valid phone number: {_REASONS.get(error.error_type, 'unreadable')}") \
            from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(
            "not a valid phone number: wrong length or prefix for its country; write it in E.164 "
            f"(e.g. +8613800000101) or as dialled in {region.upper()}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def normalised_or_same(text: str, region: str = DEFAULT_REGION) -> str:
    """For matching what Twilio sends (`From`): E.164 when it parses, as given when it does not."""
    try:
        return normalise(text, region)
    except InvalidPhone:
        return text


@lru_cache(maxsize=4096)
def is_landline(e164: str) -> bool:
    """A fixed line: it cannot receive an SMS, so it is called instead."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE


_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "it holds no phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
