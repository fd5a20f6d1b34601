"""`python -m onestop.cases` runs the service; `python -m onestop.cases rebuild` rebuilds its read models."""

import sys

from onestop.cases.app import create_app
from onestop.cases.settings import CasesSettings
from onestop.servicekit.runtime import serve
from onestop.servicekit.startup import read_settings


def main() -> None:
    if sys.argv[1:] == ["rebuild"]:
        from onestop.cases.rebuild import main as rebuild

        rebuild()
        return
    settings = read_settings(CasesSettings)
    serve(create_app(settings), settings.cases_http_host, settings.cases_http_port)


if __name__ == "__main__":
    main()
