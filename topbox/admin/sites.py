"""The project's admin site: Django's, registering MongoEngine documents too."""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.admin import sites
from django.utils.http import urlencode
from mongoengine.base import TopLevelDocumentMetaclass

from topbox.admin import actions, patches
from topbox.admin.urls import reverse_plain


@dataclass(frozen=True)
class Children:
    """The documents of ``model`` that point at a parent, as shown on the parent's admin.

    ``param`` is the filter of ``model``'s changelist that selects one parent's children;
    ``count`` (optional) maps a list of parent ids to ``{parent id: number of children}``;
    ``field`` (optional) is ``model``'s reference to the parent: the parent's page then
    lists its first children (``model``'s ordering, one indexed query).
    """

    model: type
    param: str
    label: str
    count: object = None
    field: str | None = None

    def url(self, parent):
        opts = self.model._meta
        changelist = reverse_plain(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return f"{changelist}?{urlencode({self.param: str(parent.pk)})}"


@dataclass(frozen=True)
class Link:
    """A page about one document, linked from its changelist row and its change page.

    ``url`` maps the document to the page's URL; declared by an app above the document's
    (a client's statistics dashboard), as :class:`Children` are.
    """

    label: str
    url: object
    count = None  # shown like Children without a count


class AdminSite(sites.AdminSite):
    """Registers documents (their patches applied), and lets child apps add links to parents.

    A child app (engagements) knows its parent (clients), not the other way round: it
    declares itself with :meth:`register_children`, and the parent's admin shows a column
    and a link for it without importing the child.
    """

    site_header = "Topbox administration"
    site_title = "Topbox admin"
    index_title = "Topbox data"

    def __init__(self, name="admin"):
        super().__init__(name)
        # Django's delete_selected reads the queryset's verbose name, which documents lack.
        self._actions = {"delete_selected": actions.delete_selected}
        self._global_actions = self._actions.copy()
        self._children = defaultdict(list)

    def register(self, model_or_iterable, admin_class=None, **options):
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        for model in models:
            if isinstance(model, TopLevelDocumentMetaclass):
                from topbox.admin.options import DocumentAdmin

                patches.apply_to_document(model)
                admin_class = admin_class or DocumentAdmin
        super().register(models, admin_class, **options)

    def register_children(self, parent, children):
        self._children[parent].append(children)

    def children_of(self, parent):
        """What :meth:`register_children` and :meth:`register_link` declared for ``parent``."""
        return self._children[parent]

    def register_link(self, parent, link):
        self._children[parent].append(link)
