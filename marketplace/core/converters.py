"""The `<id:...>` path converter: a row id that PostgreSQL's bigint can hold. A longer number is no match (404)
instead of a query the database refuses (a 500 on foreign-key lookups such as organisation_id=10**30)."""

from marketplace.core.bounds import BIGINT


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= BIGINT[1]:
            raise ValueError(f"{value} is not an id")
        return number

    def to_url(self, value) -> str:
        return str(int(value))
