"""`python -m onestop.notify` runs the service; `python -m onestop.notify rebuild` rebuilds its views."""

import sys

from onestop.notify.app import create_app
from onestop.notify.settings import NotifySettings
from onestop.servicekit.runtime import serve
from onestop.servicekit.startup import read_settings


def main() -> None:
    if sys.argv[1:] == ["rebuild"]:
        from onestop.notify.rebuild import main as rebuild

        rebuild()
        return
    settings = read_settings(NotifySettings)
    serve(create_app(settings), settings.notify_http_host, settings.notify_http_port)


if __name__ == "__main__":
    main()
