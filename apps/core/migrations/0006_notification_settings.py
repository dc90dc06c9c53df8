from django.db import migrations


def add_new_defaults(apps, schema_editor):
    """Insert the settings added since 0003 (the notification and gateway cool-down values)."""
    from apps.core.system_settings import default_rows

    SystemSetting = apps.get_model("core", "SystemSetting")
    for key, value, description in default_rows():
        SystemSetting.objects.get_or_create(key=key, defaults={"value": value, "description": description})


class Migration(migrations.Migration):
    dependencies = [("core", "0005_setting_value_blank")]

    operations = [migrations.RunPython(add_new_defaults, migrations.RunPython.noop)]
