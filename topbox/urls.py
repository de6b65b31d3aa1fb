from django.urls import path

from topbox.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
]
