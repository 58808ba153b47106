"""The message thread between a referrer and the clinic, and what each user has already seen."""
