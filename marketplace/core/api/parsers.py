"""The API's JSON parser: the usual 400 (not a RecursionError or a database error) for a body nested too deep,
too large, or holding a NUL character that PostgreSQL cannot store."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

MAX_DEPTH = 64


class SafeJSONParser(parsers.JSONParser):
    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        limit = getattr(settings, "API_JSON_MAX_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ParseError(_("JSON body larger than %(limit)s bytes; send less at a time.") % {"limit": limit})
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
            parse_constant = json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise ParseError(_("JSON nested more than %(depth)s levels deep.") % {"depth": self.max_depth}) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from None
        self.check(data)
        return data

    def check(self, data) -> None:
        """Walk the document without recursion: refuse excessive depth and NUL characters."""
        stack = [(data, 1)]
        while stack:
            value, depth = stack.pop()
            if isinstance(value, (dict, list)):
                if depth > self.max_depth:
                    raise ParseError(_("JSON nested more than %(depth)s levels deep.") % {"depth": self.max_depth})
                if isinstance(value, dict):
                    for key, inner in value.items():
                        if "\x00" in key:
                            raise ParseError(_("JSON keys and strings cannot contain the NUL character (\\u0000)."))
                        stack.append((inner, depth + 1))
                else:
                    stack.extend((inner, depth + 1) for inner in value)
            elif isinstance(value, str) and "\x00" in value:
                raise ParseError(_("JSON keys and strings cannot contain the NUL character (\\u0000)."))


class SafeMultiPartParser(parsers.MultiPartParser):
    """Multipart forms of any method (the middleware sees only POST's): no NUL in field names, values or file
    names."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        for name, values in parsed.data.lists():
            if any("\x00" in value for value in [name, *values] if isinstance(value, str)):
                raise ParseError(_("Form fields cannot contain the NUL character."))
        if any("\x00" in (upload.name or "") for upload in parsed.files.values()):
            raise ParseError(_("File names cannot contain the NUL character."))
        return parsed
