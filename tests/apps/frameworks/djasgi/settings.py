"""Minimal Django settings for the plain ASGI fixture (no channels, HTTP only)."""
SECRET_KEY = "gonicorn-test-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "djasgi.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
