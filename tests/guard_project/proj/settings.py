import os

SECRET_KEY = "guard-project-not-a-secret"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "proj.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = ["django_q", "shop", "notifications"]
MIDDLEWARE = []
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "guard-project.sqlite3"}}
TEST_RUNNER = os.environ.get("GUARD_PROJECT_TEST_RUNNER", "django.test.runner.DiscoverRunner")

CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_RESULT_BACKEND = None

Q_CLUSTER = {"name": "proj", "orm": "default", "sync": False, "timeout": 60, "retry": 120}
