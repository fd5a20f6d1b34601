"""`python -m onestop.notify` runs the notify service."""

import uvicorn

from onestop.notify.app import create_app
from onestop.notify.settings import NotifySettings


def main() -> None:
    settings = NotifySettings()
    uvicorn.run(create_app(settings), host=settings.notify_http_host, port=settings.notify_http_port, log_config=None)


if __name__ == "__main__":
    main()
