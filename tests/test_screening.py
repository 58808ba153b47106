"""The pure screening rules: each flag with the answer that raised it, TRD, urgency."""

from __future__ import annotations

import pytest

from portal.referrals.intake import document_from
from portal.referrals.screening import (
    screening_flags,
    trd_met,
    urgency_for,
)
from tests.factories import referral_data


def _doc(**sections):
    doc = document_from(referral_data())
    for name, value in sections.items():
        doc[name] = {**doc[name], **value} if isinstance(value, dict) else value
    return doc


def _codes(doc):
    return [f["code"] for f in screening_flags(doc)]


def test_typical_referral_raises_no_flag():
    assert _codes(_doc()) == []


@pytest.mark.parametrize(
    ("trials", "met"),
    [
        ([], False),
        ([{"drug": "A", "weeks": 8, "outcome": "no_response"}], False),
        (
            [
                {"drug": "A", "weeks": 6, "outcome": "no_response"},
                {"drug": "B", "weeks": 6, "outcome": "partial_response"},
            ],
            True,
        ),
        (  # 5 weeks is not an adequate trial
            [
                {"drug": "A", "weeks": 5, "outcome": "no_response"},
                {"drug": "B", "weeks": 12, "outcome": "no_response"},
            ],
            False,
        ),
        (  # the same drug twice (two doses) is one antidepressant
            [
                {"drug": "Sertraline", "weeks": 8, "outcome": "no_response"},
                {"drug": " sertraline ", "weeks": 10, "outcome": "partial_response"},
            ],
            False,
        ),
        (  # stopped for side effects, or responded: not a failed adequate trial
            [
                {"drug": "A", "weeks": 10, "outcome": "not_tolerated"},
                {"drug": "B", "weeks": 10, "outcome": "response"},
                {"drug": "C", "weeks": 10, "outcome": "no_response"},
            ],
            False,
        ),
    ],
)
def test_trd_needs_two_failed_adequate_trials(trials, met):
    assert trd_met(trials) is met
    assert ("trd_not_met" in _codes(_doc(trials=trials))) is (not met)


def test_trd_flag_says_how_many_trials_counted():
    doc = _doc(trials=[{"drug": "A", "weeks": 8, "outcome": "no_response"}])
    flag = next(f for f in screening_flags(doc) if f["code"] == "trd_not_met")
    assert (
        flag["answer"]
        == "1 antidepressant failed at 6+ weeks (no or partial response), of 1 trial listed"
    )


@pytest.mark.parametrize(
    ("systolic", "diastolic", "flagged"),
    [(140, 90, False), (141, 80, True), (120, 91, True), (139, 89, False)],
)
def test_blood_pressure_above_140_90_is_flagged_with_the_reading(systolic, diastolic, flagged):
    doc = _doc(clinical={"bp_systolic": systolic, "bp_diastolic": diastolic})
    flags = [f for f in screening_flags(doc) if f["code"] == "bp_high"]
    assert bool(flags) is flagged
    if flagged:
        assert flags[0]["answer"] == f"Recent office blood pressure {systolic}/{diastolic} mmHg"


def test_each_yes_answer_is_a_flag_with_its_details():
    doc = _doc(screening={"ich": True, "ich_details": "2019, left parietal", "pregnancy": True})
    flags = {f["code"]: f for f in screening_flags(doc)}
    assert set(flags) == {"ich", "pregnancy"}
    assert flags["ich"]["answer"] == "History of intracerebral hemorrhage? Yes: 2019, left parietal"
    assert "contraindication" in flags["ich"]["label"]


@pytest.mark.parametrize(
    ("item9", "ideation", "attempt", "urgent"),
    [
        (0, False, False, False),
        (1, False, False, True),
        (0, True, False, True),
        (0, False, True, True),
    ],
)
def test_suicidality_makes_the_referral_urgent(item9, ideation, attempt, urgent):
    doc = _doc(
        scales={"phq9": [1, 1, 1, 1, 1, 1, 1, 1, item9]},
        suicidality={"recent_ideation": ideation, "recent_attempt": attempt},
    )
    assert urgency_for(doc, "routine") == ("urgent" if urgent else "routine")
    assert ("suicidality" in _codes(doc)) is urgent


def test_flagged_medication_classes_name_the_drug():
    doc = _doc(
        medications=[
            {"name": "Lorazepam", "dose": "1 mg at night", "drug_class": "benzodiazepine"},
            {"name": "Sertraline", "dose": "100 mg", "drug_class": ""},
        ]
    )
    flags = [f for f in screening_flags(doc) if f["code"].startswith("med_")]
    assert flags == [
        {
            "code": "med_benzodiazepine",
            "label": "Current medication: benzodiazepine",
            "answer": "Lorazepam 1 mg at night",
        }
    ]
