from topbox import documents
from topbox.management.base import MongoCommand


class Command(MongoCommand):
    help = "Create the MongoDB indexes declared on Topbox documents (run at deploy time; idempotent)."

    def handle(self, *args, verbosity, **options):
        for document_cls in documents.ensure_indexes():
            if verbosity < 1:
                continue
            indexes = ", ".join(sorted(document_cls._get_collection().index_information()))
            self.stdout.write(f"{document_cls._meta['collection']}: {indexes}")
