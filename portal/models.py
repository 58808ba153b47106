"""Every model module, imported once so that the metadata (and Alembic) sees all tables.
tests/test_models_registry.py checks that no package's models.py is missing here."""

from portal.accounts import models as accounts  # noqa: F401
from portal.admin import models as admin  # noqa: F401
from portal.attachments import models as attachments  # noqa: F401
from portal.audit import models as audit  # noqa: F401
from portal.auth import models as auth  # noqa: F401
from portal.authorizations import models as authorizations  # noqa: F401
from portal.clinics import models as clinics  # noqa: F401
from portal.fhir import models as fhir  # noqa: F401
from portal.letters import models as letters  # noqa: F401
from portal.measures import models as measures  # noqa: F401
from portal.messages import models as messages  # noqa: F401
from portal.notifications import models as notifications  # noqa: F401
from portal.referrals import models as referrals  # noqa: F401
from portal.scheduling import models as scheduling  # noqa: F401
from portal.treatment import models as treatment  # noqa: F401
from portal.triage import models as triage  # noqa: F401
