"""Making an uploaded photo safe to keep and show: the type is read from the bytes (never from the
name or the header), the size is capped, and the image is decoded and encoded again as JPEG, which
drops its EXIF (GPS position, device, owner) and anything hidden after the picture."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
LONGEST_SIDE = 2560


class NotAPhoto(ValueError):
    """The bytes are not a photo Steward keeps (not an image, an unknown format, too large)."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    media_type: str
    width: int
    height: int


def clean_photo(data: bytes) -> CleanPhoto:
    if len(data) > MAX_PHOTO_BYTES:
        raise NotAPhoto(f"a photo is at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise NotAPhoto(f"{image.format} images are not accepted: send a JPEG, PNG, WebP or GIF")
            if image.width * image.height > MAX_PIXELS:
                raise NotAPhoto("the image has too many pixels")
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise NotAPhoto("this file is not an image: send a photo (JPEG, PNG, WebP or GIF)") from error
    upright.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=85, optimize=True)
    return CleanPhoto(out.getvalue(), "image/jpeg", upright.width, upright.height)
