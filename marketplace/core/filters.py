"""django-filter filters with the same bounds as the API's fields (marketplace.core.bounds)."""

import django_filters

from marketplace.core import forms


class IdFilter(django_filters.NumberFilter):
    """An id: 1 up to the bigint maximum; anything else is a 400, never a database error."""

    field_class = forms.IdField
