"""Verification codes: short, unambiguous when read aloud or typed from paper. Pure module."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L, U/V: a code is often read off a printed or faxed page.
ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
LENGTH = 10
_SHAPE = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    """A random code such as 'K7QX2-MR9TA' (about 48 bits)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(typed: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be a code."""
    raw = re.sub(r"[\s-]", "", typed or "").upper()
    if not _SHAPE.match(raw):
        return None
    return f"{raw[:5]}-{raw[5:]}"
