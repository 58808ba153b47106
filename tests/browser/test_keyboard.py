"""WCAG 2.1 keyboard operability (2.1.1 Keyboard, 2.4.1 Bypass blocks, 2.4.3 Focus order,
2.4.7 Focus visible): the key journeys driven by the keyboard alone. After the first page of
each journey nothing is clicked, checked, filled or selected through a locator: only Tab,
Shift+Tab, Enter, Space, arrow keys and typed text. Every element that takes focus on the way
must show a visible focus indicator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, accepted_referral, create_referral, draft_letter

# What the focused element is, how it is named, and whether its focus can be seen.
FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const clean = (s) => (s || '').replace(/\\s+/g, ' ').trim();
  const byIds = (ids) => ids.split(/\\s+/).map((id) => {
    const ref = document.getElementById(id); return ref ? ref.textContent : '';
  }).join(' ');
  let name = el.getAttribute('aria-label') || '';
  if (!name && el.getAttribute('aria-labelledby')) name = byIds(el.getAttribute('aria-labelledby'));
  if (!name && el.labels && el.labels.length) {
    name = Array.from(el.labels).map((l) => l.textContent).join(' ');
  }
  if (!name && ['BUTTON', 'A', 'SUMMARY'].includes(el.tagName)) name = el.textContent;
  if (!name) name = el.getAttribute('title') || el.value || el.getAttribute('placeholder') || '';
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  // Focus on a browser-drawn part inside a native control (the date picker button of a date
  // input): the host is activeElement but not :focus, and the browser draws its own ring.
  const part = !el.matches(':focus');
  // Covered: no part of it is the topmost element on screen (a sticky bar lies over it).
  const hits = Array.from(el.getClientRects()).map((c) => document.elementFromPoint(
    Math.min(Math.max((c.left + c.right) / 2, 0), innerWidth - 1),
    Math.min(Math.max((c.top + c.bottom) / 2, 0), innerHeight - 1)));
  const labels = Array.from(el.labels || []);
  const mine = (h) => !h || el.contains(h) || labels.some((l) => l.contains(h));
  const over = hits.length && !hits.some(mine) ? hits[0] : null;
  let bar = over;  // name the sticky or fixed bar that lies over it, if there is one
  while (bar && !['sticky', 'fixed'].includes(getComputedStyle(bar).position)) {
    bar = bar.parentElement;
  }
  bar = bar || over;
  const covered = over ? [bar.tagName.toLowerCase(), ...bar.classList].join('.') : '';
  return {
    tag: el.tagName.toLowerCase(), id: el.id, type: el.type || '', name: clean(name),
    checked: !!el.checked, part, covered, path: location.pathname,
    outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
    ring: part || (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
           && s.outlineColor !== 'rgba(0, 0, 0, 0)') || s.boxShadow !== 'none',
    seen: r.width > 2 && r.height > 2 && r.bottom > 0 && r.right > 0
          && r.top < innerHeight && r.left < innerWidth,
  };
}"""

Target = str | Callable[[dict], bool]
# In this test: (page, class of what lay over it) -> focused elements that could not be seen.
OBSCURED: dict[tuple[str, str], list[str]] = {}


@pytest.fixture(autouse=True)
def _nothing_obscured_yet():
    OBSCURED.clear()


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED_JS)


def describe(info: dict | None) -> str:
    if info is None:
        return "<body>"
    ident = f"#{info['id']}" if info["id"] else ""
    part = " (its picker button)" if info["part"] else ""
    return f"{info['tag']}{ident} {info['name']!r}{part}"


def assert_no_defects(defects: list[str]) -> None:
    """The journey went through; what it met on the way that fails the criteria (a focused
    element hidden under another, focus not moved) is reported here, at its end."""
    for (path, over), hidden in OBSCURED.items():
        hidden = ", ".join(dict.fromkeys(hidden))
        defects.append(f"on {path}, {over} lies over the focused (so unseen) {hidden}")
    assert defects == []


def assert_focus_visible(page) -> dict:
    """The focused element shows an outline or ring, and is on screen at a usable size."""
    info = focused(page)
    assert info is not None, f"focus is lost (on <body>) at {page.url}"
    assert info["ring"], f"no visible focus indicator on {describe(info)} ({info['outline']})"
    assert info["seen"], f"focused {describe(info)} is off screen or clipped to nothing"
    return info


def tab_to(page, target: Target, limit: int = 200, key: str = "Tab", tag: str = "") -> dict:
    """Press Tab (or Shift+Tab) until the focused element's accessible name, label text or id
    is `target` (or `target(info)` is true), checking the focus indicator at every stop."""

    def matches(info: dict) -> bool:
        if tag and info["tag"] != tag:
            return False
        if callable(target):
            return target(info)
        return target in (info["name"], info["id"])

    order: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        if focused(page) is None and order[-1:] != ["<body>"]:
            order.append("<body>")  # past the end of the page: once, then round to the top
            continue
        info = assert_focus_visible(page)
        if info["covered"]:
            OBSCURED.setdefault((info["path"], info["covered"]), []).append(describe(info))
        order.append(describe(info))
        if matches(info):
            return info
        if len(order) > 5 and len(set(order[-6:])) == 1:
            break  # stuck: a date input's own segments are three stops, not six
    raise AssertionError(
        f"{target!r} never took focus after {len(order)} x {key} at {page.url}; "
        "focus order was:\n  " + "\n  ".join(order)
    )


def type_into(page, target: Target, text: str, **kwargs) -> None:
    tab_to(page, target, **kwargs)
    page.keyboard.type(text)


def press_and_wait(page, key: str = "Enter") -> None:
    """A key that submits a form or follows a link: wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def test_referrer_signs_in_skips_to_content_and_saves_a_draft(page, live_server, world, shot):
    defects: list[str] = []
    page.goto(f"{live_server}/login")
    type_into(page, "Email", world.referrer.email)
    type_into(page, "Password", PASSWORD)
    press_and_wait(page)
    expect(page.get_by_role("heading", name="My referrals")).to_be_visible()

    # The first Tab from the top of the page reaches the skip link; Enter moves focus to main.
    assert tab_to(page, "Skip to content", limit=1)["tag"] == "a"
    shot("keyboard-01-skip-link")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/referrals/#main")
    if (focused(page) or {}).get("id") != "main":
        defects.append(
            f"Enter on 'Skip to content' leaves focus on {describe(focused(page))}, not on "
            "<main id=main> (it has no tabindex=-1): only Chromium's Tab starting point moves"
        )
    # Either way the next Tab is the first control in main: the page's New referral button.
    tab_to(page, "New referral", tag="a", limit=1)
    press_and_wait(page)
    expect(page.get_by_role("heading", name="New referral")).to_be_visible()

    type_into(page, "First name", "Kira")
    type_into(page, "Last name", "Keyboard")
    type_into(page, "Date of birth", "05171980")  # month, day, year segments in turn
    tab_to(page, "Sex")
    page.keyboard.press("ArrowDown")  # a closed select changes with the arrow keys
    type_into(page, "Phone", "207-555-0199")
    tab_to(page, "F33.2 Major depressive disorder, recurrent, severe")
    page.keyboard.press("Space")
    shot("keyboard-02-intake-typed")
    tab_to(page, "Save draft", tag="button", limit=300)
    press_and_wait(page)

    expect(page.locator(".flash-success")).to_contain_text("Draft saved.")
    expect(page.get_by_label("First name")).to_have_value("Kira")
    expect(page.get_by_label("Last name")).to_have_value("Keyboard")
    expect(page.get_by_label("Date of birth")).to_have_value("1980-05-17")
    expect(page.get_by_label("Sex")).not_to_have_value("")
    expect(page.get_by_label("Phone", exact=True)).to_have_value("207-555-0199")
    expect(page.get_by_label("F33.2 Major depressive disorder, recurrent, severe")).to_be_checked()
    shot("keyboard-03-draft-saved")
    assert_no_defects(defects)


def test_coordinator_opens_screens_and_asks_by_keyboard(page, live_server, world, shot):
    referral = create_referral(world.referrer, first_name="Tabitha", last_name="Keys")
    db.session.commit()
    sign_in(page, live_server, world.coordinator.email)
    expect(page.get_by_role("heading", name="Referral queue")).to_be_visible()

    tab_to(page, referral.number, tag="button")  # a new referral's number opens it
    press_and_wait(page)
    expect(page.get_by_role("heading", name=f"Screening {referral.number}")).to_be_visible()
    expect(page.get_by_text("is in review and assigned to you")).to_be_visible()

    # A checklist item ticked with Space, saved with Enter.
    item = "Patient identity, date of birth and contact details checked"
    box = tab_to(page, item)
    assert box["type"] == "checkbox"
    assert not box["checked"]
    page.keyboard.press("Space")
    assert focused(page)["checked"], "Space did not tick the checklist item"
    tab_to(page, "Save checklist", tag="button")
    shot("keyboard-04-checklist-ticked")
    press_and_wait(page)
    expect(page.get_by_text("Checklist saved.")).to_be_visible()
    expect(page.get_by_label(item)).to_be_checked()

    # The question, above the checklist: back with Shift+Tab; the disclosure opens with Enter.
    tab_to(page, "Ask the referrer a question", tag="summary", key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#reason-needs_info")).to_be_visible()
    type_into(page, "reason-needs_info", "Is the clonazepam taken daily?")
    tab_to(page, "Ask the referrer a question", tag="button")
    shot("keyboard-05-question-typed")
    press_and_wait(page)
    expect(page.get_by_text("Your question was sent to the referrer.")).to_be_visible()
    expect(page.get_by_text("Is the clonazepam taken daily?").first).to_be_visible()
    shot("keyboard-06-question-sent")
    assert_no_defects([])


def test_clinician_documents_a_session_with_arrow_keys(page, live_server, world, shot):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    db.session.commit()
    sign_in(page, live_server, world.clinician.email)
    page.goto(f"{live_server}/treatment/referrals/{referral.id}/course")

    tab_to(page, "Document a session", tag="a")
    press_and_wait(page)
    expect(page.get_by_role("heading", name="Document session 1", exact=False)).to_be_visible()
    for label, text in [
        ("Weight (kg)", "80"),
        ("Dose (mg/kg)", "0.5"),
        ("Infusion (minutes)", "40"),
        ("Infusion started at", "0900A"),
        ("Lot number", "KET-2211"),
        ("Before dosing: systolic", "128"),
        ("Before dosing: diastolic", "82"),
        ("About 40 minutes after: systolic", "134"),
        ("About 40 minutes after: diastolic", "86"),
    ]:
        type_into(page, label, text)
    expect(page.locator("#dose-mg")).to_contain_text("40 mg")

    # PHQ-9: Tab enters each item's group on its first option; Space picks "Not at all",
    # each arrow press moves the choice one option on; Tab goes on to the next item.
    answers = [2, 1, 1, 0, 3, 0, 1, 0, 0]
    for item, answer in enumerate(answers, start=1):
        tab_to(page, f"phq9_{item}-0")
        page.keyboard.press("Space")
        for _ in range(answer):
            page.keyboard.press("ArrowRight")
        info = assert_focus_visible(page)
        assert info["id"] == f"phq9_{item}-{answer}", describe(info)
        assert info["checked"], describe(info)
    shot("keyboard-07-phq9-answered")
    tab_to(page, "Save session", tag="button")
    press_and_wait(page)

    expect(page.get_by_role("heading", name="Session 1", exact=False)).to_be_visible()
    expect(page.locator("dd", has_text="PHQ-9 8 (mild)")).to_be_visible()
    shot("keyboard-08-session-saved")
    assert_no_defects([])


def test_clinician_edits_a_letter_draft_by_keyboard(page, live_server, world, shot):
    referral = accepted_referral(world.referrer, world.coordinator, world.clinician)
    draft_letter(referral, world.clinician)
    db.session.commit()
    sign_in(page, live_server, world.clinician.email)
    page.goto(f"{live_server}/referrals/{referral.id}")

    tab_to(page, "Edit draft", tag="a", limit=300)
    press_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")

    # Recommendations first, then Shift+Tab back to the narrative: focus order both ways.
    recommendations = tab_to(page, lambda f: f["tag"] == "textarea" and f["id"] != "narrative")
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Continue maintenance every four weeks.")
    tab_to(page, "narrative", key="Shift+Tab", limit=5)
    page.keyboard.press("ControlOrMeta+A")  # replaces the factory's "Draft text."
    page.keyboard.type("Mood improved steadily.\nNo adverse events after the third session.")
    shot("keyboard-09-letter-typed")
    tab_to(page, "Save draft", tag="button")
    press_and_wait(page)

    expect(page.locator(".flash-success")).to_contain_text("Draft saved.")
    expect(page.locator("#narrative")).to_have_value(
        "Mood improved steadily.\nNo adverse events after the third session."
    )
    expect(page.locator(f"#{recommendations['id']}")).to_have_value(
        "Continue maintenance every four weeks."
    )
    shot("keyboard-10-letter-saved")
    assert_no_defects([])
