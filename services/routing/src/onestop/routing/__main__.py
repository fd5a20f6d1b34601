"""`python -m onestop.routing` runs the routing service."""

import uvicorn

from onestop.routing.app import create_app
from onestop.routing.settings import RoutingSettings


def main() -> None:
    settings = RoutingSettings()
    uvicorn.run(create_app(settings), host=settings.routing_http_host, port=settings.routing_http_port, log_config=None)


if __name__ == "__main__":
    main()
