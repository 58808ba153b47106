"""National Provider Identifier: 10 digits, the last a Luhn check digit computed over the
prefix 80840 followed by the first nine digits (CMS, NPI check digit standard)."""

from __future__ import annotations

NPI_PREFIX = "80840"


def luhn_check_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # every second digit from the right, starting with the rightmost
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    return luhn_check_digit(NPI_PREFIX + npi[:9]) == int(npi[9])
