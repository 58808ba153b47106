"""The SVG trend chart: a pure function of plain values, escaped, without inline styles."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from portal.scales.scoring import MADRS, PHQ9
from portal.treatment.chart import Band, Point, trend_svg
from portal.treatment.outcomes import bands_of

SVG = "{http://www.w3.org/2000/svg}"


def test_phq9_bands_cover_the_scale():
    assert [(b.low, b.high, b.label) for b in bands_of(PHQ9)] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ]
    assert bands_of(MADRS)[-1] == Band(35, 60, "severe")


def test_chart_draws_bands_points_and_labels():
    svg = trend_svg(
        "PHQ-9 total",
        [Point("11-01", 18, "baseline"), Point("11-04", 12), Point("11-08", 4)],
        max_total=27,
        bands=bands_of(PHQ9),
    )
    root = ET.fromstring(str(svg))  # noqa: S314 - our own markup; checks it is well-formed XML
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == 6  # five shaded bands and the frame
    assert len(root.findall(f"{SVG}circle")) == 3
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"18", "12", "4", "11-01", "11-08", "moderately severe (15-19)"} <= set(texts)
    assert root.find(f"{SVG}polyline") is not None
    assert "style=" not in str(svg)


def test_higher_scores_are_drawn_higher():
    svg = str(trend_svg("t", [Point("a", 20), Point("b", 5)], max_total=27, bands=bands_of(PHQ9)))
    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert ys[0] < ys[1]


def test_every_text_is_escaped():
    svg = str(
        trend_svg(
            '<script>alert("x")</script>',
            [Point("<b>", 3, 'note"><script>')],
            max_total=27,
            bands=[Band(0, 27, "a & b")],
        )
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "a &amp; b" in svg
    ET.fromstring(svg)  # noqa: S314 - our own markup


def test_empty_chart_says_so():
    svg = str(trend_svg("t", [], max_total=27, bands=bands_of(PHQ9)))
    assert "No scores recorded yet" in svg
