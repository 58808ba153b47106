"""The pure parts of the measures: suppression, CSV safety, the SVG charts."""

from __future__ import annotations

import csv
import io

from portal.measures.charts import Bar, bar_chart
from portal.measures.exports import csv_text, safe
from portal.measures.suppression import (
    HIDDEN,
    Cell,
    chain_cells,
    count_cell,
    share_cells,
    statistic_cell,
    table_cells,
)
from portal.measures.tables import Table


def shown(cells):
    return [c.text for c in cells]


def test_ten_is_hidden_eleven_is_shown():
    assert count_cell(10).text == HIDDEN
    assert count_cell(11).text == "11"
    assert count_cell(0).text == HIDDEN


def test_a_share_hides_when_the_rest_is_small():
    assert shown(share_cells(11, 22)) == ["11", "50%"]
    assert shown(share_cells(10, 22)) == [HIDDEN, HIDDEN]
    # 30 of 40: the 10 who did not could be worked out.
    assert shown(share_cells(30, 40)) == [HIDDEN, HIDDEN]
    assert shown(share_cells(29, 40)) == ["29", "72%"]


def test_a_statistic_of_fewer_than_11_patients_is_hidden():
    assert statistic_cell(4.5, 10, " days").text == HIDDEN
    assert statistic_cell(4.5, 11, " days").text == "4.5 days"


def test_funnel_steps_hide_small_drops():
    # 40 -> 35 would count the 5 lost: hidden; 35 -> 20 is then read against 40.
    assert shown(chain_cells([40, 35, 20, 9])) == ["40", HIDDEN, "20", HIDDEN]


def test_totals_cannot_work_a_hidden_cell_back_out():
    cells = table_cells([[20, 5, 30], [25, 40, 12]])
    text = [shown(row) for row in cells]
    # 5 is hidden; the smallest other cell of its row (20) and of its column (40) are
    # hidden with it, and then the 25 below the 20 (its column would give it away).
    assert text[0] == [HIDDEN, HIDDEN, "30", "55"]
    assert text[1] == [HIDDEN, HIDDEN, "12", "77"]
    assert text[2] == ["45", "45", "42", "132"]
    for row in cells:  # no line of the table has exactly one hidden cell
        assert sum(c.hidden for c in row) != 1
    for j in range(4):
        assert sum(row[j].hidden for row in cells) != 1


def test_csv_cells_that_could_be_formulas_are_quoted():
    assert safe("=SUM(A1)") == "'=SUM(A1)"
    assert safe("+1") == "'+1"
    assert safe("-2") == "'-2"
    assert safe("@x") == "'@x"
    assert safe("KR-000001") == "KR-000001"
    table = Table("t", "T", ["Name", "Count"], [['=HYPERLINK("x")', Cell(3, hidden=True)]])
    rows = list(csv.reader(io.StringIO(csv_text([table]))))
    assert rows == [["T"], ["Name", "Count"], ['\'=HYPERLINK("x")', HIDDEN]]


def test_charts_are_accessible_and_identical_run_to_run():
    bars = [Bar("Received", Cell(40)), Bar("Accepted <b>", Cell(5, hidden=True))]
    first = bar_chart("c1", "Funnel", "The share reaching each step.", bars)
    assert first == bar_chart("c1", "Funnel", "The share reaching each step.", bars)
    assert 'role="img" aria-labelledby="c1-title c1-desc"' in first
    assert '<title id="c1-title">Funnel</title>' in first
    assert '<desc id="c1-desc">The share reaching each step.</desc>' in first
    assert "<script" not in first
    assert " style=" not in first
    assert "Accepted &lt;b&gt;" in first
    assert first.count("<rect") == 1  # the hidden cell draws no bar
    assert HIDDEN in first


def test_nested_groups_side_by_side_hide_small_differences():
    from portal.measures.page import Summary, side_by_side

    def summary(received: int) -> Summary:
        return Summary(*(Cell(received),) * 7)

    rows = dict(side_by_side([summary(14), summary(15), summary(40)]))
    # The practice's 15 would give away the colleague's 1; the clinic's 40 is read against 14.
    assert shown(rows["Referrals received"]) == ["14", HIDDEN, "40"]
    assert shown(rows["Share accepted"]) == ["14", "15", "40"]  # not a count: as computed
