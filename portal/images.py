"""Uploaded images, opened with a bound on their pixels and re-encoded: a decompression bomb
is refused from its header before any pixel is decoded, and what is stored is a fresh PNG or
JPEG made from the pixels alone (no metadata, nothing appended after the image)."""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

from portal.errors import Invalid

if TYPE_CHECKING:
    from PIL import Image

# Pillow is loaded by the first image handled (an upload, a logo), not when the app starts.

# A page scanned at 600 dpi (A4 or US letter) is about 35 million pixels.
ATTACHMENT_PIXELS = 40_000_000
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}


class ImageRefused(Invalid):
    """The image cannot be accepted; the message says why."""


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """The image, its header read and its size checked, its pixels not yet decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused(_too_many_pixels(max_pixels)) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageRefused("The image is damaged or incomplete and cannot be opened.") from error
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageRefused(_too_many_pixels(max_pixels, width, height))
    return image


def _too_many_pixels(max_pixels: int, width: int = 0, height: int = 0) -> str:
    size = f"{width} × {height} pixels" if width else "too many pixels"
    return (
        f"The image is {size}; the limit is {max_pixels / 1e6:.0f} million pixels. Scan or "
        "save it at a lower resolution."
    )


def reencode(
    data: bytes, content_type: str, *, max_pixels: int, longest_side: int | None = None
) -> bytes:
    """A fresh PNG or JPEG of the image's pixels only, shrunk to `longest_side` if given;
    ImageRefused if it is damaged or has more than `max_pixels` pixels."""
    from PIL import Image

    image = _open(data, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
        if longest_side and max(image.size) > longest_side:
            image.thumbnail((longest_side, longest_side))
        out = io.BytesIO()
        if FORMATS[content_type] == "JPEG":
            if image.mode not in ("RGB", "L", "CMYK"):
                image = image.convert("RGB")
            image.save(out, format="JPEG", quality=92)
        else:
            image.save(out, format="PNG", optimize=False)
        return out.getvalue()
    except ImageRefused:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as error:
        raise ImageRefused("The image is damaged or incomplete and cannot be opened.") from error
    finally:
        image.close()
