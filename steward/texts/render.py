"""A text from a template key and string params, in the reader's locale, channel and time zone."""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from steward.texts.call_prompts import CALL_PROMPTS
from steward.texts.carriers import signed
from steward.texts.choices import EN, FREE_TEXT, ZH, Template
from steward.texts.notices import NOTICES
from steward.texts.prompts import PROMPTS
from steward.texts.segments import shortened
from workflows.contracts import Channel, Locale


class TemplateError(LookupError):
    """An unknown template key or locale, a missing param or a value a choice does not know."""


TEMPLATES: dict[str, Template] = NOTICES | PROMPTS | CALL_PROMPTS

_VOICE_LANGUAGE = {ZH: "zh-CN", EN: "en-US"}
_TO_BE_ANNOUNCED = {ZH: "另行通知", EN: "to be announced"}


def locale_of(value: Locale | str | None) -> Locale:
    """A stored or given locale; anything unknown or missing falls back to Chinese, the community default."""
    try:
        return Locale(value)
    except ValueError:
        return ZH


def voice_language(locale: Locale | str) -> str:
    """The `language` attribute of TwiML `<Gather>` for a locale (a `<Say>` takes its voice's,
    `carriers.speech`)."""
    return _VOICE_LANGUAGE[locale_of(locale)]


def required_params(key: str) -> set[str]:
    """The params a template needs, across its locales and channels."""
    template = _template(key)
    texts = [*template.text.values(), *(template.voice or {}).values()]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


def render(
    key: str,
    locale: Locale | str,
    params: Mapping[str, str] | None = None,
    *,
    channel: Channel = Channel.sms,
    timezone: str | None = None,
    signature: str = "",
) -> str:
    """The text of `key` in `locale` for `channel`; `timezone` is where times are written for the reader.

    An SMS starts with `signature` and fits in two segments: people's own words in it are cut to fit
    (`segments.shortened`)."""
    template = _template(key)
    try:
        locale = Locale(locale)
    except ValueError:
        raise TemplateError(f"unknown locale {locale!r}: use one of {[x.value for x in Locale]}") from None
    texts = template.voice if channel == Channel.voice and template.voice else template.text
    if locale not in texts:
        raise TemplateError(f"template {key!r} has no {locale.value} text")
    params = dict(params or {})
    missing = sorted(required_params(key) - set(params))
    if missing:
        raise TemplateError(f"template {key!r} needs params {missing}; got {sorted(params)}")
    values = {
        name: _value(key, template, name, str(value), locale, channel, timezone)
        for name, value in params.items()
    }
    if channel != Channel.sms:
        return texts[locale].format_map(values)
    return shortened(lambda given: signed(signature, texts[locale].format_map(given)), values, FREE_TEXT)


def _template(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise TemplateError(f"unknown message template {key!r}; known: {sorted(TEMPLATES)}") from None


def _value(
    key: str, template: Template, name: str, value: str,
    locale: Locale, channel: Channel, timezone: str | None,
) -> str:
    choice = template.choices.get(name)
    if choice is not None:
        if value in choice.values:
            return choice.values[value][locale]
        if not choice.open:
            raise TemplateError(
                f"template {key!r}: {name}={value!r} is not one of {sorted(choice.values)}"
            )
        return value
    if name.endswith(("_due", "_at")):
        return _local_time(value, locale, timezone)
    if name == "code" and channel == Channel.voice:
        return " ".join(char for char in value if char.isalnum())
    return value


def _local_time(value: str, locale: Locale, timezone: str | None) -> str:
    if not value.strip():
        return _TO_BE_ANNOUNCED[locale]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone and moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(timezone))
    if locale == ZH:
        return f"{moment.month}月{moment.day}日 {moment:%H:%M}"
    return f"{moment.day} {moment:%b %H:%M}"
