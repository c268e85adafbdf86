#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Django's command-line utility for the webhook example (runserver, check...)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webhook.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
