from django.db import migrations

KEY = "abuse_blacklist_days"


def add_setting(apps, schema_editor):
    """Give databases made before the setting existed its row, so the admin can change it."""
    from apps.core.system_settings import DESCRIPTIONS, default_rows

    SystemSetting = apps.get_model("core", "SystemSetting")
    value = dict((key, value) for key, value, _ in default_rows())[KEY]
    SystemSetting.objects.get_or_create(key=KEY, defaults={"value": value, "description": DESCRIPTIONS[KEY]})


class Migration(migrations.Migration):
    dependencies = [("abuse", "0002_blacklist_expiry"), ("core", "0002_default_system_settings")]

    operations = [migrations.RunPython(add_setting, migrations.RunPython.noop)]
