"""Pagination for public searches: counting every match of a broad search over 100,000 listings costs more than
the page itself, so the count stops at a cap (and pages go no further). Pages and the API say when the count was
capped, so that people narrow the search instead of paging through thousands of results."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.response import Response

from marketplace.core.api.pagination import PageNumberPagination

SEARCH_COUNT_CAP = 1_000
SEARCH_PAGE_SIZE = 20


class CappedPaginator(Paginator):
    """A Paginator whose count runs `SELECT count(*) FROM (... LIMIT cap + 1)`."""

    cap = SEARCH_COUNT_CAP

    @cached_property
    def _counted(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()  # no ORDER BY: any cap + 1 rows will do

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @cached_property
    def count_capped(self) -> bool:
        return self._counted > self.cap


class CappedPageNumberPagination(PageNumberPagination):
    django_paginator_class = CappedPaginator
    page_size = SEARCH_PAGE_SIZE

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_capped": self.page.paginator.count_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = f"Matches, counted up to {SEARCH_COUNT_CAP:,}."
        response["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "True when there are more matches than `count`: narrow the search to see them all.",
        }
        # Not required: the non-search lists of the same serializer share this component without the flag.
        return response
