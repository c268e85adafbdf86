# SPDX-License-Identifier: MIT
from django.urls import path

from . import views

# Both spellings of every route: with APPEND_SLASH, "multiply" alone would be answered
# with a redirect, which a POST webhook must not get.
urlpatterns = [
    route
    for name, view in [
        ("multiply", views.multiply),
        ("echo_args", views.echo_args),
        ("fail", views.fail),
        ("large", views.large),
    ]
    for route in (path(name, view), path(name + "/", view))
]
