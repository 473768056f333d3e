import pytest

from kt1.accounts.clearance import handling_clearance
from kt1.audit.services import audit_verify
from kt1.core.choices import Secrecy
from kt1.core.permissions import restrict
from kt1.directory.models import Agency
from tests import factories as f


@pytest.mark.django_db
def test_world_scopes_and_clearance(world):
    a, b = world["A"], world["B"]
    clerk = a.people["agency_clerk"]
    visible = set(restrict(Agency.objects.all(), clerk).values_list("pk", flat=True))
    assert a.agency.pk in visible and b.agency.pk not in visible
    assert not handling_clearance(a.people["postman"])
    f.cleared(a.people["postman"], Secrecy.B)
    assert handling_clearance(a.people["postman"], Secrecy.B)
    assert not handling_clearance(a.people["postman"], Secrecy.A)
    result = audit_verify()
    assert result.ok and result.checked > 20
