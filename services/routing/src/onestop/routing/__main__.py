"""`python -m onestop.routing` runs the service; `python -m onestop.routing rebuild` rebuilds its views."""

import sys

from onestop.routing.app import create_app
from onestop.routing.settings import RoutingSettings
from onestop.servicekit.runtime import serve
from onestop.servicekit.startup import read_settings


def main() -> None:
    if sys.argv[1:] == ["rebuild"]:
        from onestop.routing.rebuild import main as rebuild

        rebuild()
        return
    settings = read_settings(RoutingSettings)
    serve(create_app(settings), settings.routing_http_host, settings.routing_http_port)


if __name__ == "__main__":
    main()
