"""How many screens an alert reaches, per region and tier, for the answer
to an issue (``POST /api/v1/alerts``, ``POST /api/v1/alerts/cap``).

An alert on air has a delivery row per targeted screen: they are counted
(one grouped query). One waiting for a second issuer's confirmation has
none yet: it is targeted as it would be now, without writing anything.
One never disseminated (a Cancel, a Draft, Ack or Error) reaches nobody.
"""

from __future__ import annotations

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.alerting.lifecycle import AlertState
from lianbo.domain.alerting.model import Area
from lianbo.domain.alerting.reach import Reach
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.regions import full_form
from lianbo.services import alert_notice as notices
from lianbo.services.alert_targets import target


async def reach_of(uow: UnitOfWork, alert: StoredAlert) -> Reach:
    """Screens the alert targets (or would, once confirmed), per region and tier."""
    if alert.activated_at is not None:
        rows = await uow.deliveries.progress(alert.id)
        return Reach.counted(((region, tier, n) for tier, region, _, n in rows), alert.region)
    if alert.state is not AlertState.PENDING:
        return Reach()
    screens = await uow.alerts.screens(alert.region)
    return target(screens, _areas(alert), alert.region).reach


def _areas(alert: StoredAlert) -> list[Area]:
    """The stored area; without any, the whole jurisdiction (as activation)."""
    areas = notices.areas_from_json(alert.area)
    if any(a.geocodes or a.polygons or a.circles for a in areas) or not alert.region:
        return areas
    return [Area("jurisdiction", geocodes=(("GB/T2260", full_form(alert.region)),))]
