"""The domain errors services raise, by what they mean to a caller.

Services (ingest, statistics, integrity rules) raise subclasses of these; the API maps
each kind to one HTTP status in :mod:`topbox.api.errors`, and commands print them.
"""


class InvalidArguments(ValueError):
    """The arguments do not describe something the service can answer (HTTP 400)."""


class Unprocessable(Exception):
    """The input was read but cannot be stored as it is (HTTP 422)."""

    def as_dict(self):
        """The JSON body describing the problem."""
        return {"detail": str(self)}
