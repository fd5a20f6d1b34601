"""`python -m onestop.analytics` runs the service; `python -m onestop.analytics rebuild` replays the log."""

import sys

import uvicorn

from onestop.analytics.app import create_app
from onestop.analytics.settings import AnalyticsSettings


def main() -> None:
    if sys.argv[1:] == ["rebuild"]:
        from onestop.analytics.rebuild import main as rebuild

        rebuild()
        return
    settings = AnalyticsSettings()
    uvicorn.run(
        create_app(settings), host=settings.analytics_http_host, port=settings.analytics_http_port, log_config=None
    )


if __name__ == "__main__":
    main()
