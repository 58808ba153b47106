"""Demo data for `flask --app portal seed-demo`, made through the real services.

Only the seed-demo command (lazily), the tests and the scripts import this package: nothing
the running portal loads depends on it."""

from portal.demo.seed import DEMO_PASSWORD, seed

__all__ = ["DEMO_PASSWORD", "seed"]
