"""The changelist as CSV: what its filters and search select, every row, streamed.

The "Export CSV" link of each changelist carries the page's query string to
``<changelist>/export.csv``; the same :class:`~topbox.admin.changelist.DocumentChangeList`
builds the query (so a bad parameter is refused the same way), then the rows are read
in batches and written by ``topbox.csvexport``, as the API's ``text/csv`` lists are.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest

from topbox import csvexport
from topbox.admin.changelist import BadParameters, DocumentChangeList


class ExportChangeList(DocumentChangeList):
    def get_results(self, request):
        # No page and no count: the rows are streamed.
        self.result_list, self.result_count, self.full_result_count = [], None, None


def export_view(modeladmin, request):
    if not modeladmin.has_view_or_change_permission(request):
        raise PermissionDenied
    request.topbox_export = True  # DocumentAdmin.get_changelist
    try:
        changelist = modeladmin.get_changelist_instance(request)
    except BadParameters as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    rows = changelist.queryset.no_cache().as_pymongo().batch_size(csvexport.BATCH_SIZE)
    return csvexport.response(csvexport.columns(modeladmin.model), rows, f"{modeladmin.opts.model_name}s.csv")
