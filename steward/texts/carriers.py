"""What carriers and Twilio's voices ask of a text per language: the SMS signature and the call voice.

Chinese carriers deliver an application's SMS only under the signature registered for it, in 【】 at the
head of the text (`STEWARD_SMS_SIGNATURE_ZH`, e.g. 【物业服务中心】). English has its own signature
(`STEWARD_SMS_SIGNATURE_EN`, e.g. "[Property Service Centre]"): a 【】 on an English text would make the
whole of it UCS-2, 70 characters a segment instead of 160. Both are empty by default, for a carrier
or an SMS gateway that adds the registered signature itself. Each is written before the text, where
the reader looks first; the segment count includes it.

A call speaks each language in its own voice (`STEWARD_CALL_VOICE_ZH`, `STEWARD_CALL_VOICE_EN`), and
`<Say language>` names the language that voice speaks: Amazon Polly's and Google's Mandarin voices
take `cmn-CN`, Twilio's own (`alice`) `zh-CN`.
"""

from __future__ import annotations

from dataclasses import dataclass

from steward.settings import Settings
from workflows.contracts import Locale


@dataclass(frozen=True)
class Speech:
    """The `voice` and `language` attributes of a `<Say>`."""

    voice: str
    language: str


def sms_signature(settings: Settings, locale: Locale) -> str:
    return settings.sms_signature_zh if locale is Locale.zh_cn else settings.sms_signature_en


def signed(signature: str, text: str) -> str:
    """The signature before the text: 【】 closes itself, any other takes a space."""
    if not signature:
        return text
    return signature + text if signature.endswith("】") else f"{signature} {text}"


def speech(settings: Settings, locale: Locale) -> Speech:
    if locale is Locale.zh_cn:
        voice = settings.call_voice_zh
        return Speech(voice, "cmn-CN" if voice.startswith(("Polly.", "Google.")) else "zh-CN")
    return Speech(settings.call_voice_en, "en-US")
