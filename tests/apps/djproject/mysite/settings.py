"""Minimal Django settings: one view, no database, no apps."""
SECRET_KEY = "gonicorn-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
WSGI_APPLICATION = "mysite.wsgi.application"
