import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbound", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="gateway",
            name="countries",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Country calling codes of the senders this gateway may deliver (e.g. [91, 44]); empty: any.",
            ),
        ),
        migrations.AddField(
            model_name="gateway",
            name="receiving_number",
            field=models.CharField(
                blank=True,
                help_text="The number this gateway receives on (E.164); when set, deliveries addressed to another number are refused.",
                max_length=32,
            ),
        ),
        migrations.CreateModel(
            name="GatewaySecret",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token_hash", models.CharField(blank=True, db_index=True, max_length=64)),
                ("ciphertext", models.TextField(blank=True)),
                (
                    "hint",
                    models.CharField(help_text="The secret's last characters, to tell secrets apart.", max_length=4),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "expires_at",
                    models.DateTimeField(
                        blank=True, help_text="Works until then (rotated out); empty: the secret in force.", null=True
                    ),
                ),
                (
                    "gateway",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="secrets", to="inbound.gateway"
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
            },
        ),
    ]
