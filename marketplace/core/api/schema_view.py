"""The OpenAPI schema, generated once per process, language and API version.

It depends on the code and the language only (it is served public, the same to every user), and generating its
1 MB took 5 to 8 s of CPU per request on a 2-core machine: enough for a loaded server to time the docs page out.
A settings change in a test clears it.
"""

import threading
from typing import Any, ClassVar

from django.core.signals import setting_changed
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response


class CachedSchemaView(SpectacularAPIView):
    _schemas: ClassVar[dict[tuple[str, Any], dict]] = {}
    _generating: ClassVar[threading.Lock] = threading.Lock()

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (translation.get_language(), version)
        schema = self._schemas.get(key)
        if schema is None:
            with self._generating:  # one generation at a time: the others wait for it rather than repeat it
                schema = self._schemas.get(key)
                if schema is None:
                    generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                    schema = self._schemas[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=schema,
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )


def _forget_schemas(**_kwargs) -> None:
    CachedSchemaView._schemas.clear()


setting_changed.connect(_forget_schemas, dispatch_uid="core-schema-forget")
