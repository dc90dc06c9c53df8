from django.db import migrations


def insert_defaults(apps, schema_editor):
    from apps.core.system_settings import default_rows

    SystemSetting = apps.get_model("core", "SystemSetting")
    for key, value, description in default_rows():
        SystemSetting.objects.get_or_create(key=key, defaults={"value": value, "description": description})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(insert_defaults, migrations.RunPython.noop)]
