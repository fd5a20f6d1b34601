"""`python -m onestop.analytics` runs the service; `python -m onestop.analytics rebuild` replays the log."""

import sys

from onestop.analytics.app import create_app
from onestop.analytics.settings import AnalyticsSettings
from onestop.servicekit.runtime import serve
from onestop.servicekit.startup import read_settings


def main() -> None:
    if sys.argv[1:] == ["rebuild"]:
        from onestop.analytics.rebuild import main as rebuild

        rebuild()
        return
    settings = read_settings(AnalyticsSettings)
    serve(create_app(settings), settings.analytics_http_host, settings.analytics_http_port)


if __name__ == "__main__":
    main()
