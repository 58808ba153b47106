"""PDF letters back to the referring provider."""
