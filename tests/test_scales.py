"""Scale scoring at every band edge from DOMAIN.md, invalid answers, change from baseline."""

from __future__ import annotations

import pytest

from portal.scales.scoring import SCALES, InvalidAnswers, change, phq9_item9_positive, score


def answers_for(code: str, total: int) -> list[int]:
    scale = SCALES[code]
    answers = []
    for _ in range(scale.items):
        answers.append(min(scale.item_max, total - sum(answers)))
    assert sum(answers) == total
    return answers


BANDS = {
    "PHQ-9": [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
    "GAD-7": [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
    "MADRS": [
        (0, "normal"),
        (6, "normal"),
        (7, "mild"),
        (19, "mild"),
        (20, "moderate"),
        (34, "moderate"),
        (35, "severe"),
        (60, "severe"),
    ],
    "PCL-5": [
        (0, "below provisional PTSD threshold"),
        (30, "below provisional PTSD threshold"),
        (31, "provisional PTSD"),
        (80, "provisional PTSD"),
    ],
}


@pytest.mark.parametrize(
    ("code", "total", "band"), [(c, t, b) for c, edges in BANDS.items() for t, b in edges]
)
def test_band_edges(code, total, band):
    result = score(code, answers_for(code, total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize("code", list(SCALES))
def test_item_out_of_range_is_refused(code):
    scale = SCALES[code]
    for bad in (-1, scale.item_max + 1):
        answers = [0] * scale.items
        answers[-1] = bad
        with pytest.raises(InvalidAnswers, match=f"item {scale.items} must be between 0 and"):
            score(code, answers)


@pytest.mark.parametrize("answers", [[1] * 8, [1] * 10, [1] * 8 + ["2"], [1] * 8 + [True]])
def test_wrong_count_or_type_is_refused(answers):
    with pytest.raises(InvalidAnswers):
        score("PHQ-9", answers)


def test_item9():
    assert phq9_item9_positive([0] * 8 + [1])
    assert not phq9_item9_positive([3] * 8 + [0])


def test_response_and_remission():
    assert change("PHQ-9", 20, 10).response  # exactly 50% is a response
    assert not change("PHQ-9", 20, 11).response
    assert change("PHQ-9", 20, 4).remission  # below 5
    assert not change("PHQ-9", 20, 5).remission
    assert change("MADRS", 30, 10).remission  # 10 or below
    assert not change("MADRS", 30, 11).remission
    assert change("GAD-7", 12, 3).remission is None
    c = change("PHQ-9", 16, 3)
    assert (c.points, c.percent) == (-13, -81.2)
    assert change("PHQ-9", 0, 3).percent is None


CADSS_EDGES = [(0, "dissociation score"), (24, "dissociation score")]


@pytest.mark.parametrize(("total", "band"), CADSS_EDGES)
def test_cadss6_range(total, band):
    result = score("CADSS-6", answers_for("CADSS-6", total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("code", "position", "bad"),
    [
        (code, position, bad)
        for code, scale in SCALES.items()
        for position in range(1, scale.items + 1)
        for bad in (-1, scale.item_max + 1, 1.5, None)
    ],
)
def test_every_item_refuses_every_invalid_value(code, position, bad):
    answers = [0] * SCALES[code].items
    answers[position - 1] = bad
    with pytest.raises(InvalidAnswers, match=f"item {position} must be"):
        score(code, answers)
