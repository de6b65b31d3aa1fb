"""Query-string filters, declared per resource, that reach MongoDB only as literal values.

A :class:`QueryFilter` subclass declares its parameters like a serializer declares its
fields. Building the MongoDB filter refuses anything it does not know: an unknown
parameter (``agentName[$ne]``), a repeated one, a value that is a JSON object or array
or starts with ``$`` (``{"$where": ...}``), or a value its parameter cannot parse. Each
refusal is a 400 naming the parameter and saying what is accepted.
"""

import contextlib
import datetime
import json
import math
import re
from operator import ge, gt, le, lt

from rest_framework.exceptions import ValidationError

from topbox.api.fields import to_object_id
from topbox.dates import at_or_after, to_utc
from topbox.fields import INT64_MAX, INT64_MIN


def plain_value(name, raw):
    """``raw`` if it is a plain value; a 400 if it looks like a MongoDB operator or document."""
    text = raw.strip()
    if "\x00" in raw:
        raise ValidationError({name: ["NUL characters are not accepted."]})
    if text.startswith("$"):
        raise ValidationError({name: ["Operators are not accepted: give a plain value."]})
    if text[:1] in "{[":
        try:
            json.loads(text)
        except ValueError:
            return raw
        raise ValidationError({name: ["Objects and arrays are not accepted: give a plain value."]})
    return raw


# A plain value as :func:`plain_value` accepts it: no NUL, not starting with an operator,
# an object or an array (leading spaces included).
PLAIN_PATTERN = r"^([^$\[{\s\x00][^\x00]*)?$"
OBJECT_ID_PATTERN = "^[0-9a-f]{24}$"


def choices_pattern(choices, multiple):
    """A pattern for one of ``choices``, or (``multiple``) a comma-separated list of them."""
    one = "(" + "|".join(re.escape(choice) for choice in choices) + ")"
    return f"^{one}(,{one})*$" if multiple else f"^{one}$"


class Param:
    """One query parameter: parses its string and returns a MongoDB filter fragment."""

    description = ""
    schema_type = str
    max_length = 1000  # no value the API stores is longer; MongoDB's regular expressions stop at 32 KB

    def __init__(self, field=None, description=None, name=None, max_length=None):
        self.field = field
        self.name = name  # when the parameter's name is no Python identifier ("from")
        if description:
            self.description = description
        if max_length:
            self.max_length = max_length

    def bind(self, attribute):
        self.name = self.name or attribute
        self.field = self.field or self.name

    def parse(self, raw):
        return raw

    def fragment(self, value):
        return {self.field: value}

    def filter(self, raw):
        return self.fragment(self.value(raw))

    def value(self, raw):
        """The parsed value of ``raw``; a 400 naming the parameter if it is not one."""
        if len(raw) > self.max_length:
            raise self.invalid(f"Give at most {self.max_length} characters.")
        return self.parse(plain_value(self.name, raw))

    def invalid(self, message):
        return ValidationError({self.name: [message]})

    def schema(self):
        """The OpenAPI schema of the values this parameter accepts."""
        return {"type": "string", "maxLength": self.max_length, "pattern": PLAIN_PATTERN}


class ExactParam(Param):
    description = "Exact match."


class SearchParam(Param):
    """Case-insensitive substring of any of ``fields``; regular-expression characters match themselves.

    At most ``max_length`` characters: a longer term cannot be a substring of the fields
    it searches, and MongoDB caps the length of a regular expression.
    """

    def __init__(self, *fields, description=None, max_length=200):
        super().__init__(
            fields[0], description or f"Case-insensitive substring of {' or '.join(fields)}.", max_length=max_length
        )
        self.fields = fields

    def fragment(self, value):
        pattern = {"$regex": re.escape(value), "$options": "i"}
        if len(self.fields) == 1:
            return {self.field: pattern}
        return {"$or": [{field: pattern} for field in self.fields]}


class ObjectIdParam(Param):
    description = "A 24-hex id."

    def schema(self):
        return {"type": "string", "pattern": OBJECT_ID_PATTERN}

    def parse(self, raw):
        value = to_object_id(raw)
        if value is None:
            raise self.invalid("Not a valid id: give 24 hexadecimal characters.")
        return value


class ChoicesParam(Param):
    """One value, or (``multiple``) a comma-separated list, of ``choices`` (case-insensitive)."""

    def __init__(self, choices, field=None, description=None, multiple=True):
        listed = ", ".join(choices)
        super().__init__(
            field, description or (f"One or a comma-separated list of: {listed}." if multiple else f"One of: {listed}.")
        )
        self.choices = {choice.lower(): choice for choice in choices}
        self.multiple = multiple

    def parse(self, raw):
        values = [part.strip() for part in raw.split(",") if part.strip()]
        unknown = [value for value in values if value.lower() not in self.choices]
        if not values or unknown or (len(values) > 1 and not self.multiple):
            listed = ", ".join(self.choices.values())
            raise self.invalid(
                f"Give one or more of {listed}, separated by commas." if self.multiple else f"Give one of {listed}."
            )
        values = [self.choices[value.lower()] for value in values]
        return values if self.multiple else values[0]

    def fragment(self, value):
        return {self.field: value[0] if len(value) == 1 else {"$in": value}}

    def schema(self):
        choices = list(self.choices.values())
        if self.multiple:
            return {"type": "string", "pattern": choices_pattern(choices, multiple=True)}
        return {"type": "string", "enum": choices}


class DateParam(Param):
    """An ISO-8601 date or datetime (UTC unless it has a zone), compared with ``operator``."""

    def __init__(self, field, operator, description, name=None):
        super().__init__(field, description, name)
        self.operator = operator

    def parse(self, raw):
        value = to_utc(raw)
        if value is None:
            raise self.invalid(
                "Not a valid date: give an ISO-8601 date (2020-05-16) or datetime (2020-05-16T12:00:00Z)."
            )
        return value

    def fragment(self, value):
        return {self.field: at_or_after(value) if self.operator == "$gte" else {self.operator: value}}

    def schema(self):
        return {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}


class CustomPathParam(Param):
    """``custom.<path>=<value>``: equality on a field inside ``custom``.

    The value matches as a string, and also as the number or boolean it spells, since
    source records keep their own types.
    """

    description = "custom.<path>=<value>: equality on a field inside custom (e.g. custom.csvName=report.csv)."
    segment = re.compile(r"^[^$.\x00][^.\x00]*$")

    def filter_path(self, name, raw):
        path = name[len("custom.") :]
        if not path or not all(self.segment.match(part) for part in path.split(".")):
            raise ValidationError(
                {name: ["Not a valid path inside custom: dot-separated keys, none starting with '$'."]}
            )
        if len(raw) > self.max_length:
            raise ValidationError({name: [f"Give at most {self.max_length} characters."]})
        value = plain_value(name, raw)
        candidates = [value]
        for convert in (int, float):
            with contextlib.suppress(ValueError, OverflowError):
                number = convert(value)
                if INT64_MIN <= number <= INT64_MAX if isinstance(number, int) else math.isfinite(number):
                    candidates.append(number)
        if value in ("true", "false"):
            candidates.append(value == "true")
        return {f"custom.{path}": candidates[0] if len(candidates) == 1 else {"$in": candidates}}


class QueryFilter:
    """Declare parameters as class attributes; :meth:`build` turns a query string into a filter."""

    custom_paths = False  # accept custom.<path>=<value>

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.params = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Param):
                    value.bind(name)
                    cls.params[value.name] = value

    @classmethod
    def accepts(cls, name):
        return name in cls.params or (cls.custom_paths and name.startswith("custom."))

    @classmethod
    def values(cls, query_params):
        """The parsed values of the declared parameters present in ``query_params``."""
        return {name: param.value(query_params[name]) for name, param in cls.params.items() if name in query_params}

    @classmethod
    def build(cls, query_params):
        """The MongoDB filter for the known parameters in ``query_params`` (others are the caller's)."""
        fragments = []
        for name in query_params:
            if name in cls.params:
                fragments.append(cls.params[name].filter(query_params[name]))
            elif cls.custom_paths and name.startswith("custom."):
                fragments.append(CustomPathParam().filter_path(name, query_params[name]))
        return merge(fragments)


def check_query_params(query_params, filter_class=None, *names):
    """A 400 for any parameter given twice, or that neither ``filter_class`` nor ``names`` accepts."""
    accepted = set(names) | set(filter_class.params if filter_class else ())
    custom_paths = bool(filter_class and filter_class.custom_paths)
    for name in query_params:
        if len(query_params.getlist(name)) > 1:
            raise ValidationError({name: ["Give this parameter once."]})
        if name not in accepted and not (filter_class and filter_class.accepts(name)):
            listed = sorted(accepted) + (["custom.<path>"] if custom_paths else [])
            raise ValidationError({name: [f"Unknown query parameter. Accepted: {', '.join(listed)}."]})


TIGHTEST = {"$gt": max, "$gte": max, "$lt": min, "$lte": min}
OPERATORS = {"$gt": gt, "$gte": ge, "$lt": lt, "$lte": le}


def values(query, field):
    """The values ``query`` allows for ``field``: None for any, a list for an equality or
    an ``$in``, False for another condition (which counts kept by value cannot describe)."""
    if field not in query:
        return None
    condition = query[field]
    if not isinstance(condition, dict):
        return [condition]
    return list(condition["$in"]) if list(condition) == ["$in"] else False


def merge(fragments):
    """One filter from several: conditions on one field merged into one (two bounds of the
    same kind tightened to the narrower), else ``$and``.

    One condition per field matters: the embedded server answers a top-level ``$and`` with
    a collection scan.
    """
    merged, rest = {}, []
    for fragment in fragments:
        for key, value in fragment.items():
            if key not in merged:
                merged[key] = value
            elif (combined := _combine(merged[key], value)) is not None:
                merged[key] = combined
            else:
                rest.append({key: value})
    if rest:
        return {"$and": [merged, *rest]}
    return merged


def _combine(first, second):
    """Both conditions on a field as one, or None when they cannot be."""
    if _is_in(first) or _is_in(second):
        return _combine_in(first, second)
    if _is_range(first) != _is_range(second) and not (isinstance(first, dict) and isinstance(second, dict)):
        return _combine_range(first, second)
    if not (isinstance(first, dict) and isinstance(second, dict)):
        return None
    combined = dict(first)
    for operator, value in second.items():
        if operator not in combined:
            combined[operator] = value
            continue
        tightest = TIGHTEST.get(operator)
        if tightest is None or type(combined[operator]) is not type(value):
            return None
        combined[operator] = tightest(combined[operator], value)
    if combined.get("$ne", ...) is None and _is_range({k: v for k, v in combined.items() if k != "$ne"}):
        del combined["$ne"]  # a range matches values of its bounds' type only: never null
    return combined


def _is_in(condition):
    return isinstance(condition, dict) and list(condition) == ["$in"]


def _is_range(condition):
    return isinstance(condition, dict) and bool(condition) and set(condition) <= set(TIGHTEST)


def _combine_range(first, second):
    """An equality with a range (a cursor's ties within a date range): the equality if its
    value lies in the range, else a condition nothing matches; None if they don't compare."""
    value, bounds = (second, first) if _is_range(first) else (first, second)
    if value is None:
        return {"$in": []}  # a range matches values of its bounds' type only: never null or missing
    if isinstance(value, dict | list | bool) or any(isinstance(bound, bool) for bound in bounds.values()):
        return None  # (a bool is a number to Python, not to MongoDB)
    try:
        inside = all(OPERATORS[name](_utc(value), _utc(bound)) for name, bound in bounds.items())
    except TypeError:  # another BSON type: MongoDB compares within a type only
        return None
    return value if inside else {"$in": []}


def _utc(value):
    """A datetime without a zone as UTC (what pymongo stores it as), to compare with others."""
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value


def _combine_in(first, second):
    """An ``$in`` with an equality or another ``$in`` (a client user's engagements and the
    engagement asked for) as the values in both, or None for other conditions."""
    values = [first["$in"] if _is_in(first) else [first], second["$in"] if _is_in(second) else [second]]
    if any(isinstance(value, dict | list) for choice in values for value in choice):
        return None
    both = [value for value in values[0] if value in values[1]]
    if not (_is_in(first) and _is_in(second)) and len(both) == 1:
        return both[0]
    return {"$in": both}


# Filter backends: DRF's ``filter_queryset()`` runs them in turn on the view's Query.


class QueryParamsFilter:
    """Narrows the query by the view's ``filter_class`` and refuses every parameter that
    neither it, the paginator nor the view (``ordering``, ``view_params``) accepts."""

    def filter_queryset(self, request, queryset, view):
        self.check(request, view.filter_class, *view.paginator.params, "ordering", *view.view_params)
        return queryset.where(view.filter_class.build(request.query_params))

    @staticmethod
    def check(request, filter_class, *names):
        check_query_params(request.query_params, filter_class, *names)

    def get_schema_operation_parameters(self, view):
        parameters = [
            {"name": name, "in": "query", "required": False, "schema": param.schema(),
             "description": param.description}
            for name, param in view.filter_class.params.items()
        ]  # fmt: skip
        if view.filter_class.custom_paths:
            parameters.append(
                {"name": "custom.<path>", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "Equality on a field inside custom, e.g. custom.csvName=x.csv."}
            )  # fmt: skip
        return parameters


class OrderingFilter:
    """Sorts the query by ``?ordering=`` (one of the view's ``orderings``)."""

    def filter_queryset(self, request, queryset, view):
        return queryset.ordered(view.get_ordering())

    def get_schema_operation_parameters(self, view):
        schema = {"type": "string", "enum": list(view.orderings), "default": view.default_ordering}
        return [{"name": "ordering", "in": "query", "required": False, "schema": schema}]
