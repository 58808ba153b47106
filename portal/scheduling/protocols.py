"""The protocol templates the portal ships with (DOMAIN.md "Treatment protocols"), and which
one is proposed by default for a treatment.

Pure data, used by seed_protocols() for the demo and the tests (migration 5434dd5bed29 keeps
its own copy as shipped then)."""

from __future__ import annotations

MON_WED_FRI = [0, 2, 4]
MON_THU = [0, 3]
IV_INDUCTION = "iv_induction"
SPRAVATO_LABEL = "spravato_label"
CUSTOM = "custom"


def default_protocol_code(modality: str) -> str:
    """The code of the protocol proposed for a treatment: SPRAVATO's label schedule for
    SPRAVATO, the IV induction for anything else (IV ketamine, or the clinic's choice)."""
    return SPRAVATO_LABEL if modality == "spravato" else IV_INDUCTION


SHIPPED_PROTOCOLS: list[dict] = [
    {
        "code": IV_INDUCTION,
        "name": "IV ketamine induction",
        "modality": "iv_ketamine",
        "description": "6 infusions over 2-3 weeks, Monday/Wednesday/Friday; 0.5 mg/kg over "
        "40 minutes.",
        "preferred_weekdays": MON_WED_FRI,
        "phases": [{"weeks": 2, "per_week": 3, "every": 1}],
        "is_custom": False,
    },
    {
        "code": "iv_taper",
        "name": "IV ketamine tapering plan",
        "modality": "iv_ketamine",
        "description": "Week 1 three infusions, week 2 two, weeks 3-5 one a week, then monthly "
        "maintenance (three months proposed).",
        "preferred_weekdays": MON_WED_FRI,
        "phases": [
            {"weeks": 1, "per_week": 3, "every": 1},
            {"weeks": 1, "per_week": 2, "every": 1},
            {"weeks": 3, "per_week": 1, "every": 1},
            {"weeks": 12, "per_week": 1, "every": 4},
        ],
        "is_custom": False,
    },
    {
        "code": SPRAVATO_LABEL,
        "name": "SPRAVATO per the label",
        "modality": "spravato",
        "description": "Weeks 1-4 twice a week, weeks 5-8 once a week, then every 2 weeks "
        "(or weekly) at the lowest frequency that keeps the response.",
        "preferred_weekdays": MON_THU,
        "phases": [
            {"weeks": 4, "per_week": 2, "every": 1},
            {"weeks": 4, "per_week": 1, "every": 1},
            {"weeks": 8, "per_week": 1, "every": 2},
        ],
        "is_custom": False,
    },
    {
        "code": CUSTOM,
        "name": "Custom plan",
        "modality": "any",
        "description": "Choose the number of weeks and sessions a week when scheduling.",
        "preferred_weekdays": [],
        "phases": [{"weeks": 4, "per_week": 1, "every": 1}],
        "is_custom": True,
    },
]
