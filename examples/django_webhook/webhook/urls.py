from django.urls import path

from . import views

# Both spellings are routed: with APPEND_SLASH, "multiply" alone would be answered
# with a redirect, which a POST webhook must not get.
urlpatterns = [
    path("multiply", views.multiply),
    path("multiply/", views.multiply),
]
