"""Item wording and answer anchors for entering each rating scale item by item."""

from __future__ import annotations

from portal.scales.scoring import PHQ9_ANSWERS, PHQ9_ITEMS

FREQUENCY = PHQ9_ANSWERS  # PHQ-9 and GAD-7 share the anchors
INTENSITY = [(0, "Not at all"), (1, "A little bit"), (2, "Moderately"), (3, "Quite a bit"),
             (4, "Extremely")]  # fmt: skip
CADSS_ANCHORS = [(0, "Not at all"), (1, "Slightly"), (2, "Moderately"), (3, "Considerably"),
                 (4, "Extremely")]  # fmt: skip
MADRS_ANCHORS = [(n, str(n)) for n in range(7)]

ITEMS: dict[str, list[str]] = {
    "PHQ-9": PHQ9_ITEMS,
    "GAD-7": [
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid, as if something awful might happen",
    ],
    "MADRS": [
        "Apparent sadness",
        "Reported sadness",
        "Inner tension",
        "Reduced sleep",
        "Reduced appetite",
        "Concentration difficulties",
        "Lassitude",
        "Inability to feel",
        "Pessimistic thoughts",
        "Suicidal thoughts",
    ],
    "PCL-5": [
        "Repeated, disturbing, and unwanted memories of the stressful experience",
        "Repeated, disturbing dreams of the stressful experience",
        "Suddenly feeling or acting as if the stressful experience were happening again",
        "Feeling very upset when something reminded you of the stressful experience",
        "Strong physical reactions when something reminded you of the stressful experience",
        "Avoiding memories, thoughts, or feelings related to the stressful experience",
        "Avoiding external reminders of the stressful experience",
        "Trouble remembering important parts of the stressful experience",
        "Strong negative beliefs about yourself, other people, or the world",
        "Blaming yourself or someone else for the stressful experience or what happened after",
        "Strong negative feelings such as fear, horror, anger, guilt, or shame",
        "Loss of interest in activities that you used to enjoy",
        "Feeling distant or cut off from other people",
        "Trouble experiencing positive feelings",
        "Irritable behavior, angry outbursts, or acting aggressively",
        "Taking too many risks or doing things that could cause you harm",
        "Being superalert or watchful or on guard",
        "Feeling jumpy or easily startled",
        "Having difficulty concentrating",
        "Trouble falling or staying asleep",
    ],
    "CADSS-6": [
        "Things seem to be moving in slow motion",
        "Things seem unreal, as if in a dream",
        "Feeling separated from what is happening",
        "Looking at things as if from outside the body",
        "Watching the situation as an observer or spectator",
        "Feeling disconnected from one's own body",
    ],
}

ANCHORS: dict[str, list[tuple[int, str]]] = {
    "PHQ-9": FREQUENCY,
    "GAD-7": FREQUENCY,
    "MADRS": MADRS_ANCHORS,
    "PCL-5": INTENSITY,
    "CADSS-6": CADSS_ANCHORS,
}
