from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("inbound", "0003_gateway_secrets_from_plain"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="gateway",
            name="secret",
        ),
    ]
