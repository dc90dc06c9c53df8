from django.apps import AppConfig


class AbuseConfig(AppConfig):
    name = "apps.abuse"
    label = "abuse"
    verbose_name = "Abuse and blacklist"
