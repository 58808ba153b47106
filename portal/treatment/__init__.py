"""Treatment courses, sessions and rating scales."""
