"""`python -m onestop.cases` runs the service; `python -m onestop.cases rebuild` rebuilds its read models."""

import sys

import uvicorn

from onestop.cases.app import create_app
from onestop.cases.settings import CasesSettings


def main() -> None:
    if sys.argv[1:] == ["rebuild"]:
        from onestop.cases.rebuild import main as rebuild

        rebuild()
        return
    settings = CasesSettings()
    uvicorn.run(create_app(settings), host=settings.cases_http_host, port=settings.cases_http_port, log_config=None)


if __name__ == "__main__":
    main()
