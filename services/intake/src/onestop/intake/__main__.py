"""`python -m onestop.intake` runs the intake service."""

import uvicorn

from onestop.intake.app import create_app
from onestop.intake.settings import IntakeSettings


def main() -> None:
    settings = IntakeSettings()
    uvicorn.run(create_app(settings), host=settings.intake_http_host, port=settings.intake_http_port, log_config=None)


if __name__ == "__main__":
    main()
