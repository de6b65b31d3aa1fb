"""``DocumentAdmin``: the project-wide base of every document's admin.

It derives from Django's own ``ModelAdmin`` (so its views, admin log, permissions and
``@admin.register`` are Django's) and takes from django-mongoengine only the mapping of
document fields to form fields (``DjangoField.formfield()`` and its document form).
"""

from functools import partial

from bson import ObjectId
from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin, ShowFacets, helpers, widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import model_ngettext
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _
from django_mongoengine import fields

from topbox import memo
from topbox.admin import export, html, keyset, search
from topbox.admin.changelist import BadParameters, DocumentChangeList
from topbox.admin.forms import DocumentForm, JSONObjectField, ReferenceFormField
from topbox.admin.sites import Children
from topbox.admin.widgets import ReferencePicker, link
from topbox.documents import dependent_counts, has_dependents_rule, load_labels, referenced
from topbox.textsearch import words_filter

# How many of the documents a bulk delete removes are listed on its confirmation page.
LISTED_FOR_DELETION = 100
# How many of its children a parent's page lists (an engagement's newest interactions).
CHILDREN_LISTED = 20


class DocumentAdmin(ModelAdmin):
    form = DocumentForm
    list_per_page = 50
    # Facet counts are Django ORM aggregates.
    show_facets = ShowFacets.NEVER
    change_form_template = "admin/topbox/change_form.html"
    formfield_overrides = {
        fields.DateTimeField: {"form_class": forms.SplitDateTimeField, "widget": widgets.AdminSplitDateTime},
    }

    change_list_template = "admin/topbox/change_list.html"
    # Lists holding more than this many documents (or an unknown number) page by keyset
    # (topbox.admin.keyset: newest, older, newer, oldest, a date); None: numbered pages always.
    keyset_above = None

    def count_changelist(self, request, changelist):
        """``(count, exact)``: how many documents the list holds; not exact when only a
        bound is known (the count is then that bound)."""
        return changelist.count(), True

    def keyset_windows(self, request):
        """A :class:`topbox.admin.keyset.Windows` for reading keyset pages within windows, or None."""
        return None

    def get_changelist_instance(self, request):
        """Django's, whose filters, search, count and page each read once what they share
        (:mod:`topbox.memo`)."""
        try:
            with memo.scope():
                return super().get_changelist_instance(request)
        except IncorrectLookupParameters as error:
            raise BadParameters(str(error) or "A parameter of this page is not valid.") from None

    def changelist_view(self, request, extra_context=None):
        """Django's, but a bad parameter is a 400 page saying what was wrong (Django
        redirects to a page with no reason)."""
        try:
            return super().changelist_view(request, extra_context)
        except BadParameters as error:
            context = {
                **self.admin_site.each_context(request),
                "title": f"Cannot list {self.opts.verbose_name_plural}",
                "message": str(error),
                "opts": self.opts,
                "changelist_url": request.path,
            }
            return TemplateResponse(request, "admin/topbox/bad_parameters.html", context, status=400)

    def get_changelist(self, request, **kwargs):
        return export.ExportChangeList if getattr(request, "topbox_export", False) else DocumentChangeList

    def get_urls(self):
        opts = self.opts
        name = f"{opts.app_label}_{opts.model_name}_export"
        view = self.admin_site.admin_view(partial(export.export_view, self))
        return [path("export.csv", view, name=name), *super().get_urls()]

    def get_object(self, request, object_id, from_field=None):
        """The document, or None for an unknown or malformed id (a 404, not a 500)."""
        if from_field is not None or not ObjectId.is_valid(object_id):
            return None
        return self.get_queryset(request).filter(pk=ObjectId(object_id)).first()

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the admin index with a message; an unknown record is a 404.
        raise Http404(f"No {opts.verbose_name} has the id {object_id!r}.")

    def to_field_allowed(self, request, to_field):
        return False  # no raw-id popups: ?_to_field= is refused (400) rather than a 500

    def formfield_for_dbfield(self, db_field, request=None, **kwargs):
        if isinstance(db_field, fields.ReferenceField):
            target = db_field.document_type
            url = choices_url(target)
            return ReferenceFormField(
                target,
                site_name=self.admin_site.name,
                required=db_field.required,
                label=capfirst(db_field.verbose_name),
                help_text=db_field.help_text,
                **({"widget": ReferencePicker(target, url, self.admin_site.name)} if url else {}),
            )
        if isinstance(db_field, fields.DictField):
            return JSONObjectField(required=db_field.required, label=capfirst(db_field.verbose_name))
        if db_field.choices and db_field.blank:
            kwargs.setdefault("empty_value", None)  # no choice: the field is left out, not ""
        elif isinstance(db_field, fields.StringField):
            # django-mongoengine's mapping: the admin's text widgets, as Django's for CharField/TextField.
            text = widgets.AdminTextInputWidget if db_field.max_length else widgets.AdminTextareaWidget
            return db_field.formfield(**{"widget": text, **kwargs})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        """An add form starts valid: free-form dicts as ``{}`` (not ``null``)."""
        empty = {name: {} for name, field in self.model._fields.items() if isinstance(field, fields.DictField)}
        return {**empty, **super().get_changeform_initial_data(request)}

    def get_fields(self, request, obj=None):
        """Read-only, references show as links and dicts as indented JSON."""
        names = super().get_fields(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return names
        return [self._read_only_display(name) for name in names]

    def _read_only_display(self, name):
        field = self.model._fields.get(name)
        if isinstance(field, fields.ReferenceField):

            def show(obj):
                target = referenced(obj, name)
                return link(target, self.admin_site.name) if target is not None else obj._data.get(name)

        elif isinstance(field, fields.DictField):

            def show(obj):
                return format_html("<pre>{}</pre>", JSONObjectField().prepare_value(getattr(obj, name)))

        else:
            return name
        show.__name__ = name
        show.short_description = capfirst(field.verbose_name)
        return show

    def action_checkbox(self, obj):
        """Django's checkbox, written out: rendering a ``CheckboxInput`` through the form
        renderer for each row took a fifth of a changelist's time."""
        return html.format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            html.format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def link(self, document):
        return link(document, self.admin_site.name) if document is not None else None

    # Children and links: what other apps declared with AdminSite.register_children/register_link.

    def get_list_display(self, request):
        return [*super().get_list_display(request), *map(children_column, self.admin_site.children_of(self.model))]

    def annotate_page(self, request, documents):
        """Count every declared kind of children of the page's documents, one query each."""
        ids = [document.pk for document in documents]
        for children in self.admin_site.children_of(self.model):
            if children.count is not None:
                counts = children.count(ids)
                for document in documents:
                    document.__dict__.setdefault("_children_counts", {})[children] = counts.get(document.pk, 0)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            kinds = self.admin_site.children_of(self.model)
            counts = {kind: kind.count([obj.pk]).get(obj.pk, 0) if kind.count else None for kind in kinds}
            context["children"] = [(kind.label, kind.url(obj), counts[kind]) for kind in kinds]
            context["child_tables"] = [
                self.child_table(kind, obj, counts[kind]) for kind in kinds if isinstance(kind, Children) and kind.field
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def child_table(self, kind, parent, total):
        """The parent's first ``CHILDREN_LISTED`` children of one kind, each with its own
        children counted (one query per kind), and a link to all of them."""
        rows = self.newest_children(kind, parent)
        for row in rows:
            row._data[kind.field] = parent  # its label reads the parent: no query
        grandchildren = [g for g in self.admin_site.children_of(kind.model) if isinstance(g, Children) and g.count]
        counts = {g: g.count([row.pk for row in rows]) for g in grandchildren}
        return {
            "label": kind.label,
            "name": capfirst(kind.model._meta.verbose_name),
            "columns": [g.label for g in grandchildren],
            "rows": [
                (
                    link(row, self.admin_site.name),
                    [format_html('<a href="{}">{}</a>', g.url(row), counts[g].get(row.pk, 0)) for g in grandchildren],
                )
                for row in rows
            ],
            "total": total,
            "more": total is not None and total > len(rows),
            "url": kind.url(parent),
        }

    def newest_children(self, kind, parent):
        """The parent's first ``CHILDREN_LISTED`` children in their ordering: read as a
        keyset page (within the windows of :meth:`keyset_windows`) where the children's admin pages so."""
        ordering = kind.model._meta.get("ordering") or ["id"]
        child_admin = self.admin_site._registry.get(kind.model)
        page = keyset.ordering_of(kind.model, ordering) if getattr(child_admin, "keyset_above", None) else None
        if page is None:
            return list(kind.model.objects(**{kind.field: parent.pk}).order_by(*ordering).limit(CHILDREN_LISTED))
        db_field = kind.model._fields[kind.field].db_field
        rows = keyset.fetch(
            kind.model._get_collection(),
            {db_field: parent.pk},
            page,
            keyset.first_segments(page),
            CHILDREN_LISTED,
            child_admin.keyset_windows(None),
        )
        return [kind.model._from_son(row) for row in rows]

    # Deleting: nothing cascades, and a document still referenced is refused.

    def delete_queryset(self, request, queryset):
        """One checked delete per document (``Document.delete``): safe against children
        created meanwhile, which ``QuerySet.delete()`` is not."""
        if not has_dependents_rule(self.model):
            return super().delete_queryset(request, queryset)  # nothing references these: one query
        for document in queryset:
            document.delete()
        return None

    def get_deleted_objects(self, objs, request):
        """Only the documents themselves; those still referenced are "protected", with the counts."""
        documents = list(objs)
        load_labels(documents[:LISTED_FOR_DELETION])
        dependents = dependent_counts(self.model, [document.pk for document in documents])
        protected = [
            self.blocked(document, dependents[document.pk]) for document in documents if document.pk in dependents
        ]
        listed = [
            format_html("{}: {}", capfirst(self.opts.verbose_name), self.link(document))
            for document in documents[:LISTED_FOR_DELETION]
        ]
        if len(documents) > LISTED_FOR_DELETION:
            listed.append(f"… and {len(documents) - LISTED_FOR_DELETION} more")
        return listed, {self.opts.verbose_name_plural: len(documents)}, set(), protected

    def blocked(self, document, counts):
        """Why ``document`` cannot be deleted: its label, linked, and links to what references it."""
        children = {
            kind.model._get_collection_name(): kind
            for kind in self.admin_site.children_of(self.model)
            if isinstance(kind, Children)
        }
        parts = []
        for collection, count in counts.items():
            kind = children.get(collection)
            text = f"{count} {collection}{'s' if count != 1 else ''}"
            parts.append(format_html('<a href="{}">{}</a>', kind.url(document), text) if kind else text)
        return format_html(
            "{} {} is still referenced by {}; delete or move them first.",
            capfirst(self.opts.verbose_name),
            self.link(document),
            format_html(", ".join(["{}"] * len(parts)), *parts),
        )

    # Searching: topbox.admin.search.

    csv_name_field = None  # the stored field a "….csv" term is looked up in
    text_search = None  # a search.TextSearch: words inside free JSON, within a scope

    def get_id_searches(self):
        """What a pasted ObjectId finds, tried in order: by default the record itself."""
        return [search.IdSearch(self.model, lambda object_id: {"pk": object_id})]

    def search_filter(self, request, words):
        """The raw filter for words: in any of ``search_fields``, case-insensitively."""
        return words_filter([self.model._fields[name].db_field for name in self.get_search_fields(request)], words)

    def get_search_results(self, request, queryset, search_term):
        return search.search(self, request, queryset, search_term), False

    def response_action(self, request, queryset):
        if not all(ObjectId.is_valid(pk) for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(request, "The selection holds an invalid id; nothing was done.", messages.ERROR)
            return None
        return super().response_action(request, queryset)


def choices_url(document_type):
    """The API's picker for ``document_type`` (``<model>-choices``), or None if it has none."""
    try:
        return reverse(f"{document_type._meta.model_name}-choices")
    except NoReverseMatch:
        return None


def children_column(children):
    def column(document):
        counts = document.__dict__.get("_children_counts", {})
        if children.count is None:
            text = f"{children.label} →"
        else:
            count = counts.get(children, 0)
            text = f"{count} {model_ngettext(children.model._meta, count).lower()}"
        return format_html('<a href="{}">{}</a>', children.url(document), text)

    column.short_description = children.label
    column.__name__ = f"children_{slugify(children.label).replace('-', '_')}"
    return column
