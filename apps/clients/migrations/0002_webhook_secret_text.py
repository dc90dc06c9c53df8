from django.db import migrations, models


class Migration(migrations.Migration):
    """Widen the column first: a Fernet ciphertext is longer than the plain secret."""

    dependencies = [
        ("clients", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="client",
            name="webhook_secret",
            field=models.TextField(help_text="Standard Webhooks secret (whsec_...)."),
        ),
    ]
