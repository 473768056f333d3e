"""Dispatch over the API (issue 4 §6): bags from opening to opening, bag transfers confirmed by both
sides, mail and vehicle trips, delivery rounds with their coverage check, trip volumes, and the
incidents that discrepancies create.

Thin views in the HackSoft shape, as in kt1.api.v1.items: each operation is one API class with its
own input and output serializers; it parses, calls a selector or a service of kt1.dispatch (or
kt1.incidents), and serializes. Every read starts from the caller's restricted queryset, so a bag,
trip, round or incident outside the caller's scope answers 404 exactly like an unknown one; every
referenced id in a body (facility, bag, route, person, ...) is looked up in the caller's scope and an
unknown or foreign one is refused the same way. The services keep their stable refusal codes
(seal_in_use, empty_bag, not_holder, wrong_facility, secrecy_mix, ...); an illegal transition is 409.

Discrepancies are not errors: a seal mismatch, a broken seal, an extra, damaged or missing item is
recorded by the service as an incident with its written record, the call succeeds, and the answer
names the incidents it opened.

One module per subject (bags, trips, rounds, incidents; common holds what they share); the API
classes are named here for kt1.api.urls.
"""

from __future__ import annotations

from .bags import (
    BagCollectionApi,
    BagCreateApi,
    BagDetailApi,
    BagItemAddApi,
    BagItemRemoveApi,
    BagListApi,
    BagOpenFinishApi,
    BagReceiveApi,
    BagScanApi,
    BagScanBatchApi,
    BagSealApi,
    BagUnscanApi,
)
from .incidents import (
    IncidentDetailApi,
    IncidentListApi,
    RecordConfirmApi,
)
from .rounds import (
    RoundCollectionApi,
    RoundCompleteApi,
    RoundCoverageApi,
    RoundCreateApi,
    RoundDetailApi,
    RoundListApi,
    RoundStartApi,
    TripVolumesApi,
)
from .trips import (
    MailTripArriveApi,
    MailTripCollectionApi,
    MailTripCreateApi,
    MailTripDepartApi,
    MailTripDetailApi,
    MailTripListApi,
    TransferCancelApi,
    TransferCollectionApi,
    TransferConfirmApi,
    TransferCreateApi,
    TransferDetailApi,
    TransferListApi,
    VehicleTripCollectionApi,
    VehicleTripCreateApi,
    VehicleTripListApi,
)

__all__ = [
    "BagCollectionApi",
    "BagCreateApi",
    "BagDetailApi",
    "BagItemAddApi",
    "BagItemRemoveApi",
    "BagListApi",
    "BagOpenFinishApi",
    "BagReceiveApi",
    "BagScanApi",
    "BagScanBatchApi",
    "BagSealApi",
    "BagUnscanApi",
    "IncidentDetailApi",
    "IncidentListApi",
    "MailTripArriveApi",
    "MailTripCollectionApi",
    "MailTripCreateApi",
    "MailTripDepartApi",
    "MailTripDetailApi",
    "MailTripListApi",
    "RecordConfirmApi",
    "RoundCollectionApi",
    "RoundCompleteApi",
    "RoundCoverageApi",
    "RoundCreateApi",
    "RoundDetailApi",
    "RoundListApi",
    "RoundStartApi",
    "TransferCancelApi",
    "TransferCollectionApi",
    "TransferConfirmApi",
    "TransferCreateApi",
    "TransferDetailApi",
    "TransferListApi",
    "TripVolumesApi",
    "VehicleTripCollectionApi",
    "VehicleTripCreateApi",
    "VehicleTripListApi",
]
