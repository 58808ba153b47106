"""The URLs letters are rendered against (portal/letters/pdf.py, weasy.py). Pure module."""

# Letters resolve relative URLs against this base; the host can never resolve (RFC 2606),
# and the fetcher answers it from the static folder without any network access.
STATIC_BASE = "https://portal.invalid/static/"
# In-memory resources of one rendering (the clinic's uploaded logo) live under this prefix.
MEMORY_BASE = "https://portal.invalid/memory/"
