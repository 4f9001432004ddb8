"""ASGI entry point, for servers such as uvicorn or daphne."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
application = get_asgi_application()

if os.environ["DJANGO_SETTINGS_MODULE"] == "newsroom.settings":
    from newsroom.settings import require_secret_key  # noqa: E402

    require_secret_key()
