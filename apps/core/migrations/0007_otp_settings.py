from django.db import migrations


def add_new_defaults(apps, schema_editor):
    """Insert the settings added since 0006 (OTP codes, their rate limits and the SMS-pumping guard)."""
    from apps.core.system_settings import default_rows

    SystemSetting = apps.get_model("core", "SystemSetting")
    for key, value, description in default_rows():
        SystemSetting.objects.get_or_create(key=key, defaults={"value": value, "description": description})


def refresh_otp_descriptions(apps, schema_editor):
    """The OTP rows 0002 created said no endpoint existed yet; now they describe the endpoints."""
    from apps.core.system_settings import DESCRIPTIONS

    SystemSetting = apps.get_model("core", "SystemSetting")
    for key in ("otp_max_attempts", "otp_attempts_ttl"):
        SystemSetting.objects.filter(key=key).update(description=DESCRIPTIONS[key])


class Migration(migrations.Migration):
    dependencies = [("core", "0006_notification_settings")]

    operations = [
        migrations.RunPython(add_new_defaults, migrations.RunPython.noop),
        migrations.RunPython(refresh_otp_descriptions, migrations.RunPython.noop),
    ]
