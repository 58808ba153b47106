"""Rating scales: item ranges, totals, severity bands and change from baseline.

Pure module; the numbers are DOMAIN.md's ("Rating scales").
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.errors import Invalid


@dataclass(frozen=True)
class Scale:
    code: str
    name: str
    items: int
    item_max: int
    bands: tuple[tuple[int, str], ...]  # (lowest total of the band, band name), ascending
    remission_at_or_below: int | None = None

    @property
    def max_total(self) -> int:
        return self.items * self.item_max

    def band_for(self, total: int) -> str:
        name = self.bands[0][1]
        for lowest, band in self.bands:
            if total >= lowest:
                name = band
        return name


PHQ9 = Scale(
    "PHQ-9",
    "Patient Health Questionnaire-9",
    9,
    3,
    ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")),
    remission_at_or_below=4,
)
GAD7 = Scale(
    "GAD-7",
    "Generalized Anxiety Disorder-7",
    7,
    3,
    ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
)
MADRS = Scale(
    "MADRS",
    "Montgomery-Asberg Depression Rating Scale",
    10,
    6,
    ((0, "normal"), (7, "mild"), (20, "moderate"), (35, "severe")),
    remission_at_or_below=10,
)
PCL5 = Scale(
    "PCL-5",
    "PTSD Checklist for DSM-5",
    20,
    4,
    ((0, "below provisional PTSD threshold"), (31, "provisional PTSD")),
)
CADSS6 = Scale(
    "CADSS-6",
    "Clinician-Administered Dissociative States Scale, 6 items",
    6,
    4,
    ((0, "dissociation score"),),
)

SCALES: dict[str, Scale] = {s.code: s for s in (PHQ9, GAD7, MADRS, PCL5, CADSS6)}

PHQ9_ANSWERS: list[tuple[int, str]] = [
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
]
PHQ9_ITEMS: list[str] = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed, or the opposite, "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
]


class InvalidAnswers(Invalid):
    """The answers do not fit the scale: wrong count or an item out of range."""


@dataclass(frozen=True)
class Score:
    scale: str
    answers: tuple[int, ...]
    total: int
    band: str


def score(code: str, answers: list[int] | tuple[int, ...]) -> Score:
    """Total and band of a scale answered item by item; raises InvalidAnswers."""
    scale = SCALES[code]
    if len(answers) != scale.items:
        raise InvalidAnswers(f"{scale.code} has {scale.items} items; {len(answers)} were given.")
    for number, value in enumerate(answers, start=1):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAnswers(f"{scale.code} item {number} must be a whole number.")
        if not 0 <= value <= scale.item_max:
            raise InvalidAnswers(
                f"{scale.code} item {number} must be between 0 and {scale.item_max}."
            )
    total = sum(answers)
    return Score(scale.code, tuple(answers), total, scale.band_for(total))


def phq9_item9_positive(answers: list[int] | tuple[int, ...]) -> bool:
    """Any answer above 0 on PHQ-9 item 9 needs prompt clinical evaluation."""
    return len(answers) >= 9 and answers[8] > 0


@dataclass(frozen=True)
class Change:
    baseline: int
    latest: int
    points: int  # latest - baseline (negative is improvement)
    percent: float | None  # change as a percentage of baseline; None when baseline is 0
    response: bool  # at least a 50% drop from baseline
    remission: bool | None  # None for scales without a remission threshold


def change(code: str, baseline: int, latest: int) -> Change:
    """Change from baseline with response (>= 50% drop) and remission as DOMAIN.md defines."""
    scale = SCALES[code]
    points = latest - baseline
    percent = round(100.0 * points / baseline, 1) if baseline else None
    response = baseline > 0 and (baseline - latest) * 2 >= baseline
    remission = (
        latest <= scale.remission_at_or_below if scale.remission_at_or_below is not None else None
    )
    return Change(baseline, latest, points, percent, response, remission)
