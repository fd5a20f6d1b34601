"""Open311 GeoReport v2 in either format: resources as `.json` or `.xml`, errors as a list of `{code, description}`."""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from onestop.servicekit.inputs import control_character_in

Format = Literal["json", "xml"]

# What XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE and U+FFFF). Left out of every
# value, so a response stays well-formed whatever a reporter typed or a probe sent.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# The fields of a posted service request (GeoReport v2, POST requests), with the longest each may be.
REQUEST_FIELDS = {
    "api_key": 200,
    "jurisdiction_id": 120,
    "service_code": 32,
    "lat": 40,
    "long": 40,
    "address_string": 500,
    "address_id": 40,
    "email": 254,
    "device_id": 200,
    "account_id": 200,
    "first_name": 100,
    "last_name": 100,
    "phone": 40,
    "description": 10_000,
    "media_url": 2000,
}
ATTRIBUTE_LONGEST = 500  # each attribute[code] answer, and any field not listed above
MOST_FIELDS = 60
# The posted form as the OpenAPI document shows it: GeoReport v2 posts it urlencoded, or as multipart.
_REQUEST_FORM_SCHEMA = {
    "type": "object",
    "required": ["api_key", "service_code"],
    "properties": {name: {"type": "string", "maxLength": longest} for name, longest in REQUEST_FIELDS.items()},
    "additionalProperties": {"type": "string", "maxLength": ATTRIBUTE_LONGEST},
}
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _REQUEST_FORM_SCHEMA},
            "multipart/form-data": {"schema": _REQUEST_FORM_SCHEMA},
        },
    }
}


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
                    child.text = _xml_text(str(entry))
        else:
            child = SubElement(element, key)
            if isinstance(inner, bool):
                child.text = "true" if inner else "false"
            elif inner is not None:
                child.text = _xml_text(inner.isoformat() if isinstance(inner, datetime) else str(inner))


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


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


def checked_fields(form: Mapping[str, Any]) -> dict[str, str]:
    """A posted service request's fields as text, each within its length and without control characters (a
    description may run over lines); Open311Error(400) naming the field otherwise."""
    items = list(form.multi_items()) if hasattr(form, "multi_items") else list(form.items())
    if len(items) > MOST_FIELDS:
        raise Open311Error(400, f"a service request has at most {MOST_FIELDS} fields")
    fields: dict[str, str] = {}
    for name, value in items:
        if not isinstance(value, str):
            raise Open311Error(400, f"{name} must be text; give media as media_url, not as a file")
        longest = REQUEST_FIELDS.get(name, ATTRIBUTE_LONGEST)
        if len(name) > 100 or control_character_in(name, one_line=True):
            raise Open311Error(400, "a field name is too long or holds control characters")
        if len(value) > longest:
            raise Open311Error(400, f"{name} must be at most {longest} characters")
        if found := control_character_in(value, one_line=name != "description"):
            raise Open311Error(400, f"{name} must not contain control characters (found {found})")
        fields[name] = value
    return fields
