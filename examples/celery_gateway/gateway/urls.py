# SPDX-License-Identifier: MIT
"""Flower-compatible routes, the batch wait route, and djcelery's old routes."""
from django.urls import include, path

from . import views

urlpatterns = [
    path("api/task/async-apply/<str:name>", views.async_apply),
    path("api/task/result/<str:task_id>", views.result),
    path("api/task/revoke/<str:task_id>", views.revoke),
    path("api/tasks/wait", views.wait),
    path("api/ping", views.ping),
    path("apply/<str:name>/", views.djcelery_apply),
    # djcelery's /<id>/status/ and /<id>/done/ (and task/status/<id>/, task/done/<id>/).
    path("", include("django_celery_results.urls")),
]
