"""How many SMS segments a text costs, counted the way carriers count them.

A text that fits the GSM 03.38 alphabet is sent in GSM-7: 160 septets in one segment, 153 per segment
once it is split (the rest carry the concatenation header); a character of the extension table
(`€`, `[`, `{`, ...) takes two septets, an escape and itself. Any other character makes the whole text
UCS-2: 70 UTF-16 code units in one segment, 67 per segment after, so an emoji (a surrogate pair) counts
two. A carrier never splits an escape or a surrogate pair across segments; neither does this count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

MAX_SEGMENTS = 2
"""What a resident's SMS may cost: one or two segments (Steward's rule, tested per template)."""


@dataclass(frozen=True)
class SegmentCount:
    encoding: Literal["GSM-7", "UCS-2"]
    units: int  # septets in GSM-7, UTF-16 code units in UCS-2
    segments: int


def is_gsm(text: str) -> bool:
    return all(char in GSM_BASIC or char in GSM_EXTENSION for char in text)


def count(text: str) -> SegmentCount:
    """The encoding, the units and the segments of `text` as one SMS."""
    if is_gsm(text):
        sizes = [2 if char in GSM_EXTENSION else 1 for char in text]
        return SegmentCount("GSM-7", sum(sizes), _segments(sizes, single=160, multi=153))
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SegmentCount("UCS-2", sum(sizes), _segments(sizes, single=70, multi=67))


def segments(text: str) -> int:
    return count(text).segments


def fits(text: str, most: int = MAX_SEGMENTS) -> bool:
    return segments(text) <= most


def _segments(sizes: list[int], single: int, multi: int) -> int:
    """Whole characters packed into segments of `multi` units, unless all fit in one of `single`."""
    if sum(sizes) <= single:
        return 1  # an empty text still costs one segment
    used, parts = 0, 1
    for size in sizes:
        if used + size > multi:
            parts, used = parts + 1, 0
        used += size
    return parts


def shortened(compose: Callable[[dict[str, str]], str], values: dict[str, str], free: Iterable[str],
              most: int = MAX_SEGMENTS) -> str:
    """`compose(values)`, with the values named in `free` (people's own words: a title, a reason, an
    answer) cut to one common length and ended with an ellipsis when the whole would not fit in `most`
    segments. The longest length that fits is kept, so a short value is never cut for a long one. When
    the text does not fit even with those values cut to nothing, it is sent whole: a template too long
    for its fixed words is a bug the segment test finds."""
    whole = compose(values)
    free = [name for name in free if values.get(name)]
    if fits(whole, most) or not free:
        return whole
    ellipsis = "..." if is_gsm(compose({**values, **dict.fromkeys(free, "")})) else "…"

    def cut(length: int) -> str:
        return compose({**values, **{name: _cut(values[name], length, ellipsis) for name in free}})

    low, high = 0, max(len(values[name]) for name in free) - 1
    if not fits(cut(low), most):
        return whole
    while low < high:  # the longest length that still fits
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(cut(middle), most) else (low, middle - 1)
    return cut(low)


def _cut(value: str, length: int, ellipsis: str) -> str:
    if len(value) <= length:
        return value
    return value[:length].rstrip() + ellipsis
