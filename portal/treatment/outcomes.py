"""Outcomes of a course: each scale's baseline against its latest score, the trend chart with
severity bands, sessions done and adverse events counted. Plain values for pages and letters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from markupsafe import Markup

from portal.scales.scoring import CADSS6, SCALES, Change, Scale, change
from portal.treatment.chart import Band, Point, trend_svg
from portal.treatment.vocab import ADVERSE_EVENT_LABELS

if TYPE_CHECKING:
    from portal.referrals.models import Referral
    from portal.treatment.models import Assessment


@dataclass(frozen=True)
class Score:
    total: int
    band: str
    taken_on: date


@dataclass(frozen=True)
class ScaleOutcome:
    code: str
    name: str
    baseline: Score
    baseline_from_referral: bool  # False: the first score recorded stands in for a baseline
    latest: Score | None
    change: Change | None  # None for CADSS-6 (a per-session dissociation measure)
    count: int
    chart: Markup
    chart_title: str


@dataclass(frozen=True)
class CourseOutcome:
    sessions_done: int
    sessions_planned: int
    sessions_signed: int
    adverse_events: int
    adverse_events_by_kind: list[tuple[str, int]]
    serious_adverse_events: int
    scales: list[ScaleOutcome]


def bands_of(scale: Scale) -> list[Band]:
    """The scale's severity bands as (low, high, label) for the chart."""
    lows = [low for low, _ in scale.bands] + [scale.max_total + 1]
    return [Band(low, lows[i + 1] - 1, name) for i, (low, name) in enumerate(scale.bands)]


def _score(a: Assessment) -> Score:
    return Score(a.total, a.band, a.taken_on)


def scale_outcome(
    scale: Scale, assessments: list[Assessment], *, for_print: bool = False
) -> ScaleOutcome | None:
    """Baseline (from the referral, else the first score) against the latest later score;
    `for_print`: the chart drawn for a letter (portal.treatment.chart.trend_svg)."""
    scores = sorted(
        (a for a in assessments if a.scale == scale.code),
        key=lambda a: (not a.is_baseline, a.taken_on, a.id),
    )
    if not scores:
        return None
    baseline, later = scores[0], scores[1:]
    latest = later[-1] if later else None
    points = [
        Point(a.taken_on.strftime("%m-%d"), a.total, "baseline" if a is baseline else "")
        for a in scores
    ]
    title = f"{scale.code} total over the course"
    return ScaleOutcome(
        code=scale.code,
        name=scale.name,
        baseline=_score(baseline),
        baseline_from_referral=baseline.is_baseline,
        latest=_score(latest) if latest else None,
        change=change(scale.code, baseline.total, latest.total)
        if latest and scale is not CADSS6
        else None,
        count=len(scores),
        chart=trend_svg(
            title, points, max_total=scale.max_total, bands=bands_of(scale), for_print=for_print
        ),
        chart_title=title,
    )


def course_outcome(referral: Referral, *, for_print: bool = False) -> CourseOutcome | None:
    """Everything the outcome view shows for the referral's course (`for_print`: a letter's)."""
    course = referral.course
    if course is None:
        return None
    kinds: Counter[str] = Counter()
    for session in course.sessions:
        kinds.update(session.adverse_events)
    outcomes = [
        scale_outcome(scale, referral.assessments, for_print=for_print) for scale in SCALES.values()
    ]
    return CourseOutcome(
        sessions_done=len(course.sessions),
        sessions_planned=course.planned_sessions,
        sessions_signed=sum(1 for s in course.sessions if s.is_signed),
        adverse_events=sum(kinds.values()),
        adverse_events_by_kind=[
            (ADVERSE_EVENT_LABELS.get(k, k), n) for k, n in sorted(kinds.items())
        ],
        serious_adverse_events=sum(1 for s in course.sessions if s.serious_adverse_events),
        scales=[o for o in outcomes if o is not None],
    )
