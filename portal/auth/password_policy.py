"""Password rules per NIST SP 800-63B: length, no composition rules, no truncation, and
refusal of common passwords (the list zxcvbn ships), of the account's own email or name, and
of anything zxcvbn scores below 3 with the clinic's name and the user's own details as words
it knows (keyboard walks, sequences, dates, names and their variations); zxcvbn's advice is
shown at the field."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

MIN_LENGTH = 12
MIN_SCORE = 3  # zxcvbn: 3 "safely unguessable: moderate protection from offline attacks"
# Words every portal's passwords should avoid, besides the clinic's and the user's own.
PORTAL_WORDS = ("ketamine", "esketamine", "spravato", "referral", "portal", "clinic")
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


def context_words(*values: str) -> list[str]:
    """The words zxcvbn should treat as known: each value whole, and each of its words."""
    words = list(PORTAL_WORDS)
    for value in values:
        value = (value or "").strip().lower()
        if value:
            words.append(value)
            words += [w for w in re.split(r"[^a-z0-9]+", value) if len(w) >= 3]
    return list(dict.fromkeys(words))


def clinic_names() -> list[str]:
    """Names of the clinics in this portal (one, usually), as context for zxcvbn."""
    from sqlalchemy import select

    from portal.clinics.models import Clinic
    from portal.extensions import db

    return list(db.session.scalars(select(Clinic.name)))


def _weak(password: str, words: list[str]) -> str | None:
    """zxcvbn's advice if it scores the password below MIN_SCORE, else None."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:72], user_inputs=words)  # zxcvbn takes 72 characters at most
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    advice = " ".join(
        p for p in [feedback.get("warning") or "", *feedback.get("suggestions", [])] if p
    )
    return "That password would be easy to guess. " + (
        advice or "Add another word or two; uncommon words are better."
    )


def password_problems(
    password: str, *, email: str = "", full_name: str = "", context: tuple[str, ...] = ()
) -> list[str]:
    """What is wrong with this password for this account (`context`: other words it should
    not lean on, such as the clinic's name); an empty list means it is fine."""
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
    # The email's domain is not the user's: its words (demo, clinic, test) are not counted.
    words = context_words(email.split("@", 1)[0], full_name, *context) + [email.lower()]
    if _only_known_words(own, words):
        return [
            "The password may not be made of the clinic's name, your name or words of this "
            "portal alone. Add a few unrelated words."
        ]
    weak = _weak(password, words)
    return [weak] if weak else []


def _only_known_words(letters: str, words: list[str]) -> bool:
    """Once the known words are taken out, fewer than 4 letters are left."""
    for word in sorted({_letters(w) for w in words}, key=len, reverse=True):
        if len(word) >= 3:
            letters = letters.replace(word, "")
    return len(letters) < 4
