"""List filters for documents: Django's filters build ORM ``Q`` objects and call ``distinct()``.

Each filter validates its parameter: a malformed value is IncorrectLookupParameters (the
changelist's "?e=1" page), never a database error.
"""

import datetime

from bson import ObjectId
from django.contrib.admin import ListFilter, SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR

from topbox.dates import at_or_after
from topbox.documents import load_labels, remember

# A filter lists at most this many choices; beyond, it shows only the chosen one.
MAX_CHOICES = 100


class ChoicesFilter(SimpleListFilter):
    """Filters ``field_name`` by one of ``values``; ``"-"`` selects documents without a value."""

    field_name = None
    values = ()
    none_label = None  # the label of the "-" choice, if offered

    def lookups(self, request, model_admin):
        choices = [(value, value) for value in self.values]
        return [*choices, ("-", self.none_label)] if self.none_label else choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "-" and self.none_label:
            return queryset.filter(**{f"{self.field_name}__in": [None, ""]})
        if value not in self.values:
            raise IncorrectLookupParameters(f"{self.parameter_name}: not one of the choices")
        return queryset.filter(**{self.field_name: value})


class DistinctValuesFilter(ChoicesFilter):
    """Filters ``field_name`` by one of the values stored in it (an indexed field)."""

    def __init__(self, request, params, model, model_admin):
        self.values = sorted(v for v in model.objects.distinct(self.field_name)[:MAX_CHOICES] if v)
        super().__init__(request, params, model, model_admin)

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value is None else queryset.filter(**{self.field_name: value})


class ReferenceFilter(SimpleListFilter):
    """Filters by the id of a ``target`` document, named in the query string as ``parameter_name``.

    Lists the targets while there are at most ``MAX_CHOICES`` (:meth:`targets`); beyond,
    only the chosen one, which links from other pages select.
    """

    target = None
    field_name = None

    def lookups(self, request, model_admin):
        targets = list(self.targets(request)[: MAX_CHOICES + 1])
        if len(targets) > MAX_CHOICES:
            targets = []
        chosen = self.chosen_id()
        if chosen is not None and chosen not in {target.pk for target in targets}:
            found = self.target.objects(pk=chosen).first()
            targets.append(found if found is not None else f"{chosen} (not found)")
        # "Chat · Acme": one query, not one each; the rows' references may name them too.
        load_labels(remember([t for t in targets if isinstance(t, self.target)]))
        return [(str(getattr(t, "pk", chosen)), str(t)) for t in targets]

    def targets(self, request):
        """The documents offered as choices (a queryset); all of them by default."""
        return self.target.objects.order_by(*self.target._meta.get("ordering", []))

    def chosen_id(self):
        value = self.value()
        if value is None:
            return None
        if not ObjectId.is_valid(value):
            raise IncorrectLookupParameters(f"{self.parameter_name}: not an ObjectId")
        return ObjectId(value)

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        chosen = self.chosen_id()
        return queryset if chosen is None else self.filter(queryset, chosen)

    def filter(self, queryset, target_id):
        return queryset.filter(**{self.field_name: target_id})


class DateRangeFilter(ListFilter):
    """Filters ``field_name`` (a UTC datetime) by calendar days: presets and a custom range.

    Parameters ``<parameter_name>_from`` and ``<parameter_name>_to`` are ISO dates, both
    inclusive; the query is a range on the field (``$gte``/``$lt``), which its index serves.
    """

    field_name = None
    parameter_name = "date"
    template = "admin/topbox/date_range_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.from_param, self.to_param = f"{self.parameter_name}_from", f"{self.parameter_name}_to"
        for name in (self.from_param, self.to_param):
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]
        self.date_from, self.date_to = (
            self.parse(self.used_parameters.get(n)) for n in (self.from_param, self.to_param)
        )

    def parse(self, value):
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise IncorrectLookupParameters(f"{self.parameter_name}: {value!r} is not a date (YYYY-MM-DD)") from None

    def presets(self):
        today = datetime.datetime.now(datetime.UTC).date()
        return [
            ("Today", today, today),
            ("Past 7 days", today - datetime.timedelta(days=6), today),
            ("This month", today.replace(day=1), today),
        ]

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.from_param, self.to_param]

    def choices(self, changelist):
        chosen = (self.date_from, self.date_to)
        yield {
            "selected": chosen == (None, None),
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": "Any date",
        }
        for label, start, end in self.presets():
            yield {
                "selected": chosen == (start, end),
                "query_string": changelist.get_query_string({self.from_param: start, self.to_param: end}),
                "display": label,
            }
        # The custom range's form keeps the other parameters as hidden inputs.
        self.hidden_params = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name not in (*self.expected_parameters(), PAGE_VAR)
            for value in values
        ]

    def queryset(self, request, queryset):
        bounds = {}
        if self.date_from:
            bounds.update(at_or_after(midnight(self.date_from)))  # $gte, as SecantusDB reads it right
        if self.date_to and self.date_to < datetime.date.max:  # through 9999-12-31: no upper bound
            bounds["$lt"] = midnight(self.date_to + datetime.timedelta(days=1))
        if not bounds:
            return queryset
        return queryset.filter(__raw__={queryset._document._fields[self.field_name].db_field: bounds})


class ExactValueFilter(ListFilter):
    """Filters ``field_name`` by the exact value of ``parameter_name``, which links give
    (an agent's interactions); shown only while it is in use, with the way back to all."""

    field_name = None
    parameter_name = None

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        if self.parameter_name in params:
            self.used_parameters[self.parameter_name] = params.pop(self.parameter_name)[-1]

    def value(self):
        return self.used_parameters.get(self.parameter_name)

    def has_output(self):
        return self.value() is not None

    def expected_parameters(self):
        return [self.parameter_name]

    def choices(self, changelist):
        yield {
            "selected": False,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }
        yield {"selected": True, "query_string": changelist.get_query_string(), "display": self.value()}

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value is None else queryset.filter(**{self.field_name: value})


def parameter_names(filter_class):
    """The query parameters a list filter class reads (without building it: some query)."""
    name = getattr(filter_class, "parameter_name", None)
    if name is None:
        return []
    if issubclass(filter_class, DateRangeFilter):
        return [f"{name}_from", f"{name}_to"]
    return [name]


def midnight(day):
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
