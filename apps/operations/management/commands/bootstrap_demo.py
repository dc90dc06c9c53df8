from typing import Any

from django.db import transaction

from apps.clients.models import Client
from apps.clients.services import api_key_create, api_key_revoke, client_create
from apps.core.commands import OperatorCommand
from apps.inbound.models import Gateway
from apps.inbound.services import gateway_create, gateway_rotate

DEMO_CLIENT = "Demo client"
DEMO_GATEWAY = "Demo native gateway"
DEMO_OUTBOX = "Demo console"


class Command(OperatorCommand):
    help = (
        "Create (or refresh) the demo client and demo native gateway and print their keys; also a console "
        "gateway, so notifications and one-time codes can be tried without a provider."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor
        client = Client.objects.filter(name__iexact=DEMO_CLIENT).first()
        if client is None:
            client, api_key = client_create(name=DEMO_CLIENT, actor=actor)
        else:
            # Keys are stored hashed, so the demo gets a fresh one each start.
            for old in client.api_keys.filter(revoked_at__isnull=True):
                api_key_revoke(api_key=old, actor=actor)
            api_key = api_key_create(client=client, actor=actor)
        gateway = Gateway.objects.filter(name=DEMO_GATEWAY, kind=Gateway.Kind.NATIVE).first()
        if gateway is None:
            gateway, token = gateway_create(kind=Gateway.Kind.NATIVE, name=DEMO_GATEWAY, actor=actor)
        else:
            # Tokens are stored hashed too: a fresh one each start, the old one revoked.
            token = gateway_rotate(gateway=gateway, grace_seconds=0, actor=actor)
        if not Gateway.objects.filter(kind=Gateway.Kind.CONSOLE).exists():
            # Sends nowhere: messages land in the admin's Console outbox, for trying things out.
            gateway_create(kind=Gateway.Kind.CONSOLE, name=DEMO_OUTBOX, actor=actor)
        self.stdout.write(self.style.SUCCESS("Demo credentials"))
        self.stdout.write(f"  client API key : {api_key}")
        self.stdout.write(f"  gateway token  : {token}")
        self.stdout.write(f"  client id      : {client.id}")
        self.stdout.write(
            "  outbound       : console gateway; sent messages appear in the admin's Console outbox"
        )
