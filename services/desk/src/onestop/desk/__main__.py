"""`python -m onestop.desk` runs the desk on its port."""

from pydantic import ValidationError

from onestop.desk.app import create_app
from onestop.desk.settings import DeskSettings
from onestop.servicekit.auth import AuthSettings, process_auth_settings
from onestop.servicekit.runtime import serve
from onestop.servicekit.startup import setting_problems


def read_desk_settings() -> DeskSettings:
    """The desk's settings and the token settings; SystemExit naming every setting that is wrong."""
    reasons: list[str] = []
    settings = None
    try:
        settings = DeskSettings()
    except ValidationError as exc:
        reasons += setting_problems(exc, DeskSettings)
    try:
        process_auth_settings()
    except ValidationError as exc:
        reasons += setting_problems(exc, AuthSettings)
    if reasons or settings is None:
        raise SystemExit("onestop desk cannot start:\n" + "\n".join(f"  {reason}" for reason in reasons))
    return settings


def main() -> None:
    settings = read_desk_settings()
    serve(create_app(settings), settings.desk_http_host, settings.desk_http_port)


if __name__ == "__main__":
    main()
