"""Rating scales (DOMAIN.md "Rating scales"): definitions, item wording, scoring, bands and
change from baseline. Pure: the intake, the session forms, outcomes and letters all use it."""
