"""Plain HTML pages for the public (tracking, feedback): accessible, no JavaScript, in English or Welsh.

Everything put into a page goes through `escape` first; `page` adds only the frame around it.
"""

from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse

LANGUAGES = ("en", "cy")


def language_of(request: Request) -> str:
    """The language asked for by `?lang=` (the links we send carry it), else English."""
    asked = request.query_params.get("lang", "en")
    return asked if asked in LANGUAGES else "en"


def wants_html(request: Request) -> bool:
    """A browser following a link asks for HTML; API clients get JSON."""
    return "text/html" in request.headers.get("accept", "")


def page(title: str, body: str, language: str = "en", status_code: int = 200) -> HTMLResponse:
    """`body` is HTML already escaped by the caller; `title` is plain text."""
    html = f"""<!DOCTYPE html>
<html lang="{escape(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
body {{ font-family: Arial, sans-serif; font-size: 19px; line-height: 1.3; color: #0b0c0c; margin: 0; }}
header {{ background: #0b0c0c; color: #fff; padding: 10px 15px; font-weight: bold; }}
main {{ max-width: 640px; margin: 0 auto; padding: 20px 15px; }}
fieldset {{ border: 0; padding: 0; margin: 0 0 25px; }}
legend {{ font-weight: bold; margin-bottom: 10px; }}
label {{ display: block; margin: 5px 0; }}
textarea {{ width: 100%; font-size: 19px; border: 2px solid #0b0c0c; }}
button {{ background: #00703c; color: #fff; border: 0; padding: 8px 12px; font-size: 19px; }}
:focus {{ outline: 3px solid #fd0; }}
</style>
</head>
<body>
<header>{"Gwasanaethau Cwsmeriaid" if language == "cy" else "Customer Services"}</header>
<main id="main-content">
<h1>{escape(title)}</h1>
{body}
</main>
</body>
</html>
"""
    return HTMLResponse(html, status_code=status_code)
