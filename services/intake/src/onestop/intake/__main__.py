"""`python -m onestop.intake` runs the service; `python -m onestop.intake rebuild` rebuilds its views."""

import sys

from onestop.intake.app import create_app
from onestop.intake.settings import IntakeSettings
from onestop.servicekit.runtime import serve
from onestop.servicekit.startup import read_settings


def main() -> None:
    if sys.argv[1:] == ["rebuild"]:
        from onestop.intake.rebuild import main as rebuild

        rebuild()
        return
    settings = read_settings(IntakeSettings)
    serve(create_app(settings), settings.intake_http_host, settings.intake_http_port)


if __name__ == "__main__":
    main()
