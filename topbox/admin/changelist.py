"""The changelist for documents: MongoEngine queries, one fetch per page, cheap counts.

Per page it runs: the page query (once; on a big list, one keyset query per segment and
branch, see :mod:`topbox.admin.keyset`); one ``$in`` query per hop of each
``list_select_related`` path, for the whole page, of what the filters did not list
already (:func:`topbox.documents.remember`); one aggregation per kind of children
counted; and one count, the cheapest the page allows (the admin's ``count_changelist``),
none when the first page holds the whole list.
"""

import datetime

from bson import ObjectId
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_field, display_for_value, lookup_field, quote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import InvalidPage, Paginator
from django.db import models
from django.urls import NoReverseMatch
from django.utils.safestring import SafeString

from topbox.admin import keyset
from topbox.admin.filters import parameter_names
from topbox.admin.html import escape, format_html
from topbox.admin.urls import reverse_id
from topbox.api.query import NOTHING
from topbox.documents import prefetch_references


class BadParameters(Exception):
    """A changelist parameter that is not valid; the message says which and why."""


class CountedPaginator(Paginator):
    """A paginator given its count, so that the changelist decides how to count."""

    def __init__(self, object_list, per_page, count):
        super().__init__(object_list, per_page)
        self.count = count


class DocumentChangeList(ChangeList):
    keyset = None  # the keyset navigation's links, on a big list (else numbered pages)
    first_page = None  # the first page, when count() read it

    def get_queryset(self, request, exclude_parameters=None):
        # The keyset navigation's parameters are no filters, and no link built from this
        # page's parameters (a filter, a sort, the search form) keeps them: it starts over.
        for name in keyset.NAV_PARAMS:
            self.params.pop(name, None)
            self.filter_params.pop(name, None)
        (self.filter_specs, self.has_filters, remaining, _, self.has_active_filters) = self.get_filters(request)
        if remaining:
            # Only the declared filters filter: arbitrary lookups from the query string could
            # run any query (an unindexed scan, a regex) or fail inside the database.
            accepted = sorted(name for spec in self.list_filter for name in parameter_names(spec))
            raise IncorrectLookupParameters(
                f"Unknown filter parameter{'s' if len(remaining) > 1 else ''}: {', '.join(sorted(remaining))}. "
                f"This list is filtered by: {', '.join(accepted) or 'nothing'} (and searched with q)."
            )
        queryset = self.root_queryset.clone()
        for spec in self.filter_specs:
            filtered = spec.queryset(request, queryset)
            if filtered is not None:
                queryset = filtered
        queryset, _ = self.model_admin.get_search_results(request, queryset, self.query)
        self.clear_all_filters_qs = self.get_query_string(remove=self.get_filters_params())
        self.ordering_names = self.get_ordering(request, queryset)
        return queryset.order_by(*self.ordering_names)

    def get_ordering(self, request, queryset):
        """The clicked columns, then the admin's or the document's ordering (by sentiment:
        the newest first within each); the id breaks the remaining ties.

        The id goes in the direction of the last key, so that (date, id) orderings walk the
        (date, id) indexes either way.
        """
        default = list(self.model_admin.get_ordering(request) or self._get_default_ordering())
        ordering = default
        if self.params.get(ORDER_VAR):
            ordering = []
            for part in self.params[ORDER_VAR].split("."):
                _, prefix, index = part.rpartition("-")
                try:
                    name = self.get_ordering_field(self.list_display[int(index)])
                except (IndexError, ValueError):
                    continue
                if isinstance(name, str):
                    ordering.append(name.removeprefix("-") if prefix and name.startswith("-") else prefix + name)
            chosen = {name.lstrip("-") for name in ordering}
            ordering += [n for n in default if isinstance(n, str) and n.lstrip("-") not in chosen | {"pk", "id"}]
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("-pk" if ordering and ordering[-1].startswith("-") else "pk")
        return ordering

    def rows(self):
        """The results' cells, as Django's ``items_for_result`` writes them, with what is
        the same on every row worked out once per column (its classes, its link, the
        empty value) and the filters the change links keep added to each link without
        resolving it again (a quarter of a filtered page's time)."""
        filters = self._preserved_filters_query()
        if self.formset or self.is_popup or self.to_field or filters is None:
            return list(admin_list.results(self))
        empty = self.model_admin.get_empty_value_display()
        columns, first = [], True
        for index, name in enumerate(self.list_display):
            linked = self.list_display_links is not None and (
                (first and not self.list_display_links) or name in self.list_display_links
            )
            columns.append((name, f"field-{admin_list._coerce_field_name(name, index)}", linked and first, linked))
            first = first and not linked
        return [
            admin_list.ResultList(None, [self._cell(result, *column, empty, filters) for column in columns])
            for result in self.result_list
        ]

    def _cell(self, result, name, classes, header, linked, empty, filters):
        """One of Django's ``items_for_result`` cells (without a form)."""
        classes = [classes]
        try:
            field, attr, value = lookup_field(name, result, self.model_admin)
        except ObjectDoesNotExist:
            text = empty
        else:
            empty = getattr(attr, "empty_value_display", empty)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if field is None or field.auto_created:
                if name == "action_checkbox":
                    classes = ["action-checkbox"]
                boolean = getattr(attr, "boolean", False)
                if isinstance(attr, property) and hasattr(attr, "fget"):
                    boolean = getattr(attr.fget, "boolean", False)
                text = display_for_value(value, empty, boolean)
                if isinstance(value, (datetime.date, datetime.time)):
                    classes.append("nowrap")
            else:
                if isinstance(field.remote_field, models.ManyToOneRel):
                    value = getattr(result, field.name)
                    text = empty if value is None else value
                else:
                    text = display_for_field(value, field, empty, avoid_link=linked)
                if isinstance(field, (models.DateField, models.TimeField, models.ForeignKey)):
                    classes.append("nowrap")
        tag = "th" if header else "td"
        if linked:
            try:
                url = self.url_for_result(result)
            except NoReverseMatch:
                pass
            else:
                text = format_html('<a href="{}{}">{}</a>', url, filters, text)
        return SafeString(f'<{tag} class="{" ".join(classes)}">{escape(text)}</{tag}>')

    def _preserved_filters_query(self):
        """What Django's ``add_preserved_filters`` appends to a change link of this list (the
        same for every row), worked out once on a link of the same pattern; None if it
        does not just append."""
        try:
            sample = self.url_for_result(self.model(pk=ObjectId()))
        except NoReverseMatch:
            return ""  # no change links
        url = add_preserved_filters({"preserved_filters": self.preserved_filters, "opts": self.opts}, sample)
        return url.removeprefix(sample) if url.startswith(sample) and "?" not in sample else None

    def url_for_result(self, result):
        opts = self.opts
        return reverse_id(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            quote(result.pk),
            current_app=self.model_admin.admin_site.name,
        )

    def count(self):
        """The number of documents listed.

        Unfiltered, the collection's ``estimated_document_count()`` (collection metadata on
        MongoDB, no scan), since a full count on every page reads the whole ``_id`` index.
        Filtered or searched, the matches are counted exactly (the pagination needs it; the
        filters use indexes). The collection's total is not counted again next to a
        filtered count (``show_full_result_count = False``: Django links "Show all" instead).

        On the first page of numbered pages, the page is read first, with one document
        more: when it holds them all (the clients, a client's engagements), their number
        is the count, and no count is asked.
        """
        if self.page_num == 1 and not self.show_all and self.model_admin.keyset_above is None:
            rows = list(self.queryset.clone().limit(self.list_per_page + 1))
            self.first_page = rows[: self.list_per_page]
            if len(rows) <= self.list_per_page:
                return len(rows)
        return self.queryset.count() if self.narrowed else self.model._get_collection().estimated_document_count()

    @property
    def narrowed(self):
        return self.has_active_filters or bool(self.query) or bool(self.root_queryset._query)

    @property
    def selects_nothing(self):
        """Whether nothing can match (a search that found nothing: ``none()``, or no ids):
        then nothing is asked, neither the count, which reads the query as it is sent,
        nor the page (the embedded server scans the collection for an empty ``$in``)."""
        return self.queryset._none or NOTHING in self.queryset._query.values()

    def get_results(self, request):
        nothing = self.selects_nothing
        result_count, exact = (0, True) if nothing else self.model_admin.count_changelist(request, self)
        threshold = self.model_admin.keyset_above
        ordering = keyset.ordering_of(self.model, self.ordering_names) if threshold is not None else None
        paginator = CountedPaginator(self.queryset, self.list_per_page, result_count)
        multi_page = result_count > self.list_per_page
        if nothing:
            self.result_list = []
        elif ordering is not None and (not exact or result_count > threshold):
            self.result_list = self.keyset_page(request, ordering)
            multi_page = True
        elif self.first_page is not None:
            self.result_list = self.first_page
        elif self.show_all or not multi_page:
            self.result_list = list(self.queryset.clone())
        else:
            try:
                # Fetched once, as a list: the templates iterate and measure it several times.
                self.result_list = list(paginator.page(self.page_num).object_list)
            except InvalidPage:
                raise IncorrectLookupParameters(
                    f"Page {self.page_num}: there is no such page (pages 1 to {paginator.num_pages})."
                ) from None
        prefetch_references(self.result_list, self.list_select_related or ())
        self.model_admin.annotate_page(request, self.result_list)

        self.result_count = result_count
        self.count_exact = exact
        if self.keyset is not None:
            name = self.opts.verbose_name if result_count == 1 else self.opts.verbose_name_plural
            self.keyset["count"] = f"{'' if exact else 'more than '}{result_count:,} {name}"
        self.show_full_result_count = False
        # Unfiltered, the total is the count: no "Show all" link that would show the same list.
        self.full_result_count = None if self.narrowed else result_count
        self.show_admin_actions = True
        # "Show all" only on numbered pages short enough to show at once.
        self.can_show_all = self.keyset is None and exact and result_count <= self.list_max_show_all
        self.multi_page = multi_page
        self.paginator = paginator

    def keyset_page(self, request, ordering):
        """The page the navigation parameters ask for (:mod:`topbox.admin.keyset`), as documents."""
        params, path = request.GET, request.path
        backwards, cursor_given = False, True
        windows = self.model_admin.keyset_windows(request)
        by_date = keyset.is_by_date(self.model, ordering)
        if keyset.AT in params:
            if not by_date:
                raise IncorrectLookupParameters("at: going to a date needs the list sorted by date.")
            try:
                day = datetime.date.fromisoformat(params[keyset.AT])
            except ValueError:
                raise IncorrectLookupParameters(f"at: {params[keyset.AT]!r} is not a date (YYYY-MM-DD)") from None
            segments = keyset.jump_segments(ordering, day)
        elif keyset.AFTER in params:
            segments = ordering.after(*keyset.decode(path, params[keyset.AFTER], ordering))
        elif keyset.BEFORE in params:
            segments = ordering.reversed().after(*keyset.decode(path, params[keyset.BEFORE], ordering))
            backwards = True
        elif keyset.LAST in params:
            segments, backwards, cursor_given = keyset.first_segments(ordering.reversed()), True, False
        else:
            segments, cursor_given = keyset.first_segments(ordering), False
        order = ordering.reversed() if backwards else ordering
        collection = self.model._get_collection()
        rows = keyset.fetch(collection, self.queryset._query, order, segments, self.list_per_page + 1, windows)
        more = len(rows) > self.list_per_page
        rows = rows[: self.list_per_page]
        if backwards:
            rows.reverse()
        at_end = keyset.LAST in params
        has_next, has_previous = (not at_end, more) if backwards else (more, cursor_given)
        on_first = not has_previous and (backwards or not cursor_given)
        on_last = not has_next

        def link(**new):
            return self.get_query_string(new, remove=[*keyset.NAV_PARAMS, "p"])

        if not by_date:
            labels = ("First", "Previous", "Next", "Last")
        elif ordering.direction == -1:
            labels = ("Newest", "Newer", "Older", "Oldest")
        else:
            labels = ("Oldest", "Older", "Newer", "Newest")
        self.keyset = {
            "labels": labels,
            "jumps": by_date,
            "first": None if on_first else link(),
            "previous": link(**{keyset.BEFORE: keyset.encode(path, ordering, rows[0], True)})
            if rows and has_previous else None,
            "next": link(**{keyset.AFTER: keyset.encode(path, ordering, rows[-1], False)})
            if rows and has_next else None,
            "last": None if on_last else link(**{keyset.LAST: 1}),
            "at": params.get(keyset.AT, ""),
            "hidden": [(k, v) for k, values in self.filter_params.items() if k not in (*keyset.NAV_PARAMS, "p")
                       for v in values],
        }  # fmt: skip
        return [self.model._from_son(row) for row in rows]
