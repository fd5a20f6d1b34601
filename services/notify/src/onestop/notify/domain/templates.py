"""Message templates per event type, language and (optionally) service, in plain English, versioned.

A template is `templates/<language>/<name>.txt` (or `<name>.<service area>.txt` for a service's own
wording); its first line is the subject. Missing a language, the English one is used.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, Undefined

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
VERSION = (TEMPLATE_DIR / "VERSION").read_text().strip()


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    template: str
    language: str
    version: str


class Templates:
    def __init__(self, directory: Path = TEMPLATE_DIR, strict: bool = False) -> None:
        # Sending tolerates a value left out (the wording has defaults); previews are strict, to catch mistakes.
        self.environment = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined if strict else Undefined,
            autoescape=False,
            keep_trailing_newline=True,
        )

    def names(self) -> list[str]:
        return sorted(
            {Path(name).name.split(".")[0] for name in self.environment.list_templates() if name.endswith(".txt")}
        )

    def render(
        self, name: str, context: dict[str, Any], language: str = "en", service_area: str | None = None
    ) -> Rendered:
        candidates = [f"{lang}/{name}.{service_area}.txt" for lang in (language, "en") if service_area]
        candidates += [f"{lang}/{name}.txt" for lang in (language, "en")]
        for candidate in candidates:
            try:
                template = self.environment.get_template(candidate)
            except TemplateNotFound:
                continue
            text = template.render(**context)
            first, _, rest = text.partition("\n")
            used_language = candidate.split("/")[0]
            return Rendered(first.removeprefix("Subject: ").strip(), rest.strip() + "\n", name, used_language, VERSION)
        raise LookupError(f"no template {name!r}")


def day(moment: datetime | None) -> str | None:
    """A date as the letters say it: Thursday 5 March 2026."""
    return moment.strftime("%A %-d %B %Y") if moment else None
