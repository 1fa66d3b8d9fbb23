from rest_framework import pagination

from marketplace.core.bounds import DOMAINS


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_schema_operation_parameters(self, view):
        """State the bounds the server applies (a page past the last one is a 404; a larger page_size is capped)."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            low, high = DOMAINS["page" if parameter["name"] == self.page_query_param else "page_size"]
            parameter["schema"].update({"minimum": low, "maximum": high})
        return parameters
