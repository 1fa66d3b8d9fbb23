from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "marketplace.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from marketplace.core.converters import IdConverter

        register_converter(IdConverter, "id")
