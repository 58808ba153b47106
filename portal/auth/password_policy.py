"""Password rules per NIST SP 800-63B: length, no composition rules, no truncation, and
refusal of common passwords (the list zxcvbn ships) and of the account's own email or name."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

MIN_LENGTH = 12
MAX_LENGTH = 256  # far above the 64 NIST asks for; argon2 hashes it whole, no truncation


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def normalize(password: str) -> str:
    """NFKC, as NIST recommends, so the same password typed on two keyboards matches."""
    return unicodedata.normalize("NFKC", password)


def _letters(value: str) -> str:
    return re.sub(r"[^a-z]", "", value.lower())


def _is_common(password: str) -> bool:
    lowered = password.lower()
    common = common_passwords()
    candidates = {
        lowered,
        lowered.replace(" ", ""),
        lowered.strip("0123456789!@#$%^&*()-_=+.,?~ "),  # "password123456!" is still "password"
    }
    if any(c in common for c in candidates if c):
        return True
    # One character, or one short run, repeated: "aaaaaaaaaaaa", "abcabcabcabc".
    return any(lowered == (lowered[:n] * len(lowered))[: len(lowered)] for n in (1, 2, 3, 4))


def password_problems(password: str, *, email: str = "", full_name: str = "") -> list[str]:
    """What is wrong with this password for this account; an empty list means it is fine."""
    password = normalize(password)
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters. A few unrelated words make a good one."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    if _is_common(password):
        return ["That password is on a list of commonly used passwords. Choose another."]
    own = _letters(password)
    local = email.split("@", 1)[0]
    personal = {_letters(v) for v in (email, local, full_name) if len(_letters(v)) >= 4}
    if any(p == own or p in own for p in personal if len(p) >= 6) or own in personal:
        return ["The password may not be your email address or your name."]
    return []
