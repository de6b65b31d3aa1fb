"""The shared cache's default backend: Django's database cache, reading with less work.

Nearly every API request reads it (a token's stamp and the address's failed attempts, in
one ``get_many``: :mod:`topbox.api.authentication`), and Django's backend builds a model
field (for the expiry column) and its SQL text on every call, which takes longer than
SQLite takes to answer. Here they are built once; the query, the results and the
deletion of expired entries are Django's.
"""

import base64
import pickle

from django.core.cache.backends import db
from django.db import connections, models, router
from django.utils.timezone import now

EXPIRES = models.Expression(output_field=models.DateTimeField())  # the column as Django reads it


class DatabaseCache(db.DatabaseCache):
    def __init__(self, table, params):
        super().__init__(table, params)
        self._selects = {}  # (connection alias, number of keys) -> SQL

    def get_many(self, keys, version=None):
        if not keys:
            return {}
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        connection = connections[router.db_for_read(self.cache_model_class)]
        with connection.cursor() as cursor:
            cursor.execute(self._select(connection, len(key_map)), list(key_map))
            rows = cursor.fetchall()
        converters = connection.ops.get_db_converters(EXPIRES) + EXPIRES.get_db_converters(connection)
        result, expired, current = {}, [], now()
        for key, value, expires in rows:
            for converter in converters:
                expires = converter(expires, EXPIRES, connection)
            if expires < current:
                expired.append(key)
            else:
                value = connection.ops.process_clob(value)
                result[key_map.get(key)] = pickle.loads(base64.b64decode(value.encode()))
        self._base_delete_many(expired)
        return result

    def _select(self, connection, count):
        """Django's SELECT of ``count`` keys, for ``connection``."""
        sql = self._selects.get((connection.alias, count))
        if sql is None:
            key, value, expires, table = map(connection.ops.quote_name, ("cache_key", "value", "expires", self._table))
            placeholders = ", ".join(["%s"] * count)
            sql = f"SELECT {key}, {value}, {expires} FROM {table} WHERE {key} IN ({placeholders})"
            self._selects[(connection.alias, count)] = sql
        return sql
