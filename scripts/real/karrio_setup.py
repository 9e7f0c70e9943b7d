"""Prepares a local Karrio server for Ferry's real tests (run by karrio.sh).

Run inside the Karrio venv with the same environment as the server:

    python karrio_setup.py setup        # admin user, API token, offline carrier
    python karrio_setup.py scan NUMBER STATUS DESCRIPTION

`setup` is idempotent and prints `TOKEN=<key>`. The carrier is Karrio's
generic ("custom carrier") extension, which rates from its own service list
and draws its labels locally: booking needs no network.

`scan` stands in for a carrier's scan of a parcel: the generic carrier has
no tracking API, so Karrio makes no tracker for its shipments; this adds (or
extends) the tracker of the shipment with that tracking number, as Karrio's
tracking worker would after polling a real carrier.
"""

import datetime
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "karrio.server.settings")

import django  # noqa: E402

django.setup()

EMAIL = "ferry@example.com"
PASSWORD = "ferry-local-only-9274"
TOKEN_LABEL = "ferry-real-tests"
CARRIER_ID = "ferry-offline"


def setup() -> None:
    from karrio.server.providers.models import CarrierConnection
    from karrio.server.user.models import Token, User

    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create_superuser(email=EMAIL, password=PASSWORD)
    token = Token.objects.filter(user=user, label=TOKEN_LABEL, test_mode=False).first()
    if token is None:
        token = Token.objects.create(user=user, label=TOKEN_LABEL, test_mode=False)
    carrier = CarrierConnection.objects.filter(carrier_id=CARRIER_ID).first()
    if carrier is None:
        CarrierConnection.objects.create(
            carrier_code="generic",
            carrier_id=CARRIER_ID,
            credentials={"display_name": "Ferry Offline", "custom_carrier_name": "ferry_offline"},
            capabilities=["rating", "shipping"],
            test_mode=False,
            active=True,
            created_by=user,
        )
    print(f"TOKEN={token.key}")


def scan(number: str, status: str, description: str) -> None:
    from karrio.server.manager.models import Shipment, Tracking

    shipment = Shipment.objects.filter(tracking_number=number).first()
    if shipment is None:
        sys.exit(f"no shipment with tracking number {number!r}")
    now = datetime.datetime.now(datetime.timezone.utc)
    event = {
        "date": now.strftime("%Y-%m-%d"),
        "time": now.strftime("%I:%M %p"),
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "status": status,
        "code": status.upper(),
        "description": description,
        "location": "Berlin",
    }
    tracker = Tracking.objects.filter(tracking_number=number).first()
    if tracker is None:
        tracker = Tracking.objects.create(
            tracking_number=number,
            delivered=status == "delivered",
            shipment=shipment,
            carrier=shipment.carrier,
            test_mode=shipment.test_mode,
            created_by=shipment.created_by,
            status=status,
            events=[event],
            options={number: {"carrier": shipment.carrier_name}},
        )
    else:
        # Karrio keeps events newest first.
        tracker.events = [event, *(tracker.events or [])]
        tracker.status = status
        tracker.delivered = status == "delivered"
        tracker.save()
    print(f"TRACKER={tracker.id}")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["setup"]:
            setup()
        case ["scan", number, status, description]:
            scan(number, status, description)
        case _:
            sys.exit(__doc__)
