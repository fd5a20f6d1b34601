"""GOV.UK Frontend's styles, scripts, fonts and images, and the desk's own, served by the desk.

`make install` puts govuk-frontend (the version services/desk/package-lock.json pins) under
.local/npm/node_modules; a deployment points DESK_FRONTEND_DIR at its own copy."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic_settings import BaseSettings, SettingsConfigDict

OWN_STATIC = Path(__file__).resolve().parents[1] / "static"


def _installed_frontend() -> Path:
    # services/desk/src/onestop/desk/web/assets.py → the repository's .local/npm
    return Path(__file__).resolve().parents[6] / ".local" / "npm" / "node_modules" / "govuk-frontend" / "dist" / "govuk"


class PageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="DESK_", extra="ignore")

    frontend_dir: Path = _installed_frontend()
    # The trace viewer (`python -m onestop.ops.traces`) that the services send their spans to.
    traces_url: str = "http://127.0.0.1:4318"


def mount_assets(app: FastAPI, settings: PageSettings) -> None:
    """Serve GOV.UK Frontend at /govuk (CSS, JS) and /assets (fonts, images: where its CSS looks), and the
    desk's own files at /static. Refuses to start without them: pages without styles would look broken."""
    frontend = settings.frontend_dir
    if not (frontend / "govuk-frontend.min.css").is_file():
        raise RuntimeError(f"GOV.UK Frontend is not at {frontend} (DESK_FRONTEND_DIR); run `make install`")
    app.mount("/govuk", StaticFiles(directory=frontend), name="govuk")
    app.mount("/assets", StaticFiles(directory=frontend / "assets"), name="govuk-assets")
    app.mount("/static", StaticFiles(directory=OWN_STATIC), name="desk-static")
