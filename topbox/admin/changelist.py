"""The changelist for documents: MongoEngine queries, one fetch per page, cheap counts.

Per page it runs: the page query (once); one ``$in`` query per hop of each
``list_select_related`` path, for the whole page; one aggregation per kind of children
counted; and one count, the cheapest the page allows (:meth:`DocumentChangeList.count`).
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.paginator import InvalidPage, Paginator

from topbox.admin.filters import parameter_names
from topbox.documents import prefetch_references


class BadParameters(Exception):
    """A changelist parameter that is not valid; the message says which and why."""


class CountedPaginator(Paginator):
    """A paginator given its count, so that the changelist decides how to count."""

    def __init__(self, object_list, per_page, count):
        super().__init__(object_list, per_page)
        self.count = count


class DocumentChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
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
        return queryset.order_by(*self.get_ordering(request, queryset))

    def get_ordering(self, request, queryset):
        """The admin's or the document's ordering, or the clicked columns; the id breaks ties.

        The id goes in the direction of the last key, so that (date, id) orderings walk the
        (date, id) indexes either way.
        """
        ordering = list(self.model_admin.get_ordering(request) or self._get_default_ordering())
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
        if not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering.append("-pk" if ordering and ordering[-1].startswith("-") else "pk")
        return ordering

    def count(self):
        """The number of documents listed.

        Unfiltered, the collection's ``estimated_document_count()`` (collection metadata on
        MongoDB, no scan), since a full count on every page reads the whole ``_id`` index.
        Filtered or searched, the matches are counted exactly (the pagination needs it; the
        filters use indexes). The collection's total is not counted again next to a
        filtered count (``show_full_result_count = False``: Django links "Show all" instead).
        """
        return self.queryset.count() if self.narrowed else self.model._get_collection().estimated_document_count()

    @property
    def narrowed(self):
        return self.has_active_filters or bool(self.query) or bool(self.root_queryset._query)

    def get_results(self, request):
        result_count = self.count()
        paginator = CountedPaginator(self.queryset, self.list_per_page, result_count)
        can_show_all = result_count <= self.list_max_show_all
        multi_page = result_count > self.list_per_page
        if (self.show_all and can_show_all) or not multi_page:
            page_query = self.queryset.clone()
        else:
            try:
                page_query = paginator.page(self.page_num).object_list
            except InvalidPage:
                raise IncorrectLookupParameters(
                    f"Page {self.page_num}: there is no such page (pages 1 to {paginator.num_pages})."
                ) from None
        # Fetched once, as a list: the templates iterate and measure it several times.
        self.result_list = list(page_query)
        prefetch_references(self.result_list, self.list_select_related or ())
        self.model_admin.annotate_page(request, self.result_list)

        self.result_count = result_count
        self.show_full_result_count = False
        # Unfiltered, the total is the count: no "Show all" link that would show the same list.
        self.full_result_count = None if self.narrowed else result_count
        self.show_admin_actions = True
        self.can_show_all = can_show_all
        self.multi_page = multi_page
        self.paginator = paginator
