"""Encrypt the webhook secrets stored in plain text, then read the column as encrypted."""

from django.db import migrations

import apps.core.crypto
from apps.core.crypto import secret_decrypt, secret_encrypt


def encrypt(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    for client in Client.objects.exclude(webhook_secret="").only("pk", "webhook_secret"):
        client.webhook_secret = secret_encrypt(client.webhook_secret)
        client.save(update_fields=["webhook_secret"])


def decrypt(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    for client in Client.objects.exclude(webhook_secret="").only("pk", "webhook_secret"):
        client.webhook_secret = secret_decrypt(client.webhook_secret)
        client.save(update_fields=["webhook_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_webhook_secret_text"),
    ]

    operations = [
        # The historical field here is a plain TextField, so the values go through as they are.
        migrations.RunPython(encrypt, decrypt),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="client",
                    name="webhook_secret",
                    field=apps.core.crypto.EncryptedTextField(
                        help_text="Standard Webhooks secret (whsec_...), encrypted at rest."
                    ),
                ),
            ],
        ),
    ]
