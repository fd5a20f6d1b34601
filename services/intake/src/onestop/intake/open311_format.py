"""Open311 GeoReport v2 in either format: resources as `.json` or `.xml`, errors as a list of `{code, description}`."""

from datetime import datetime
from typing import Any, Literal
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

Format = Literal["json", "xml"]


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def render(format_: str, root: str, item: str, rows: list[dict[str, Any]], status_code: int = 200) -> Response:
    if format_ == "xml":
        tree = Element(root)
        for row in rows:
            _xml_fill(SubElement(tree, item), row)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + tostring(tree, encoding="unicode").encode()
        return Response(body, status_code=status_code, media_type="text/xml; charset=utf-8")
    return JSONResponse(jsonable_encoder(rows), status_code=status_code)


def _xml_fill(element: Element, value: dict[str, Any]) -> None:
    for key, inner in value.items():
        if isinstance(inner, list):
            container = SubElement(element, key)
            singular = {"attributes": "attribute", "values": "value"}.get(key, key.rstrip("s"))
            for entry in inner:
                child = SubElement(container, singular)
                if isinstance(entry, dict):
                    _xml_fill(child, entry)
                else:
                    child.text = str(entry)
        else:
            child = SubElement(element, key)
            if isinstance(inner, bool):
                child.text = "true" if inner else "false"
            elif inner is not None:
                child.text = inner.isoformat() if isinstance(inner, datetime) else str(inner)


def error_response(format_: str, code: int, description: str) -> Response:
    return render(
        format_ if format_ in ("json", "xml") else "json",
        "errors",
        "error",
        [{"code": code, "description": description}],
        status_code=code,
    )


def checked_format(format_: str) -> str:
    if format_ not in ("json", "xml"):
        raise Open311Error(400, f"format must be json or xml, not {format_!r}")
    return format_


def definition_xml(row: dict[str, Any]) -> Response:
    tree = Element("service_definition")
    _xml_fill(tree, row)
    return Response(
        b'<?xml version="1.0" encoding="utf-8"?>' + tostring(tree, encoding="unicode").encode(),
        media_type="text/xml; charset=utf-8",
    )
