from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for every app. It sits above the layers, so it may call any app's services."""

    name = "marketplace.demo"
    label = "demo"
    verbose_name = "Demo data"
