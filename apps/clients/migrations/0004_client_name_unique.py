import django.db.models.functions.text
from django.db import migrations, models


def rename_duplicates(apps, schema_editor):
    """Existing clients that share a name (ignoring case and spaces around) get " (2)", " (3)", ...

    The oldest keeps its name; the others stay usable (keys, callbacks) and can be renamed
    in the admin. Without this, an installation with duplicates could not migrate.
    """
    Client = apps.get_model("clients", "Client")
    taken: set[str] = set()
    for client in Client.objects.order_by("created_at", "pk").only("pk", "name"):
        base = client.name.strip()
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base} ({n})"
        taken.add(name.lower())
        if name != client.name:
            Client.objects.filter(pk=client.pk).update(name=name[:120])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0003_encrypt_webhook_secrets"),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="client",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="uniq_client_name_ci",
                violation_error_message="Another client already has this name (names are compared ignoring case).",
            ),
        ),
    ]
