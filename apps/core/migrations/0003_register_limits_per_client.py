from django.db import migrations

OLD_NUMBER_LIMIT, NEW_NUMBER_LIMIT = 10, 50


def add_new_defaults(apps, schema_editor):
    """Insert settings added since 0002, and lift the per-number limit left at its old default.

    The per-number limit used to be the only one, shared by all clients; it is now a ceiling
    across clients above the new per-client limit, so the old default would sit below it.
    """
    from apps.core.system_settings import default_rows

    SystemSetting = apps.get_model("core", "SystemSetting")
    for key, value, description in default_rows():
        SystemSetting.objects.get_or_create(key=key, defaults={"value": value, "description": description})
    SystemSetting.objects.filter(key="register_per_number_per_hour", value=OLD_NUMBER_LIMIT).update(
        value=NEW_NUMBER_LIMIT
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0002_default_system_settings")]

    operations = [migrations.RunPython(add_new_defaults, migrations.RunPython.noop)]
