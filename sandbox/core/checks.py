"""System checks run before ``migrate`` and ``serve`` touch the database.

The platform stores embeddings in pgvector columns. A ``DATABASE_URL`` that
points at a PostgreSQL server without the extension failed deep inside the
first migration, as a traceback ending in the server's "could not open
extension control file"; this check says what is wrong and what to do first.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import connections


@register(Tags.database)
def pgvector_available(app_configs=None, databases=None, **kwargs) -> list[Error]:
    """An error for each database checked whose server cannot provide pgvector."""
    errors = []
    for alias in databases or ():
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT EXISTS (SELECT FROM pg_available_extensions"
                               " WHERE name = 'vector'), current_setting('server_version')")
                available, version = cursor.fetchone()
        except Exception:  # unreachable, refused: Django's own error says it better
            continue
        if not available:
            settings = connection.settings_dict
            where = f"{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}" \
                    f"/{settings.get('NAME')}"
            major = version.split(".")[0]
            errors.append(Error(
                f"The PostgreSQL server of database '{alias}' ({where}, PostgreSQL {version}) "
                f"does not have the pgvector extension, which the platform needs for its "
                f"embeddings.",
                hint=f"Install pgvector on that server (Debian/Ubuntu: apt install "
                     f"postgresql-{major}-pgvector), or unset DATABASE_URL to use the embedded "
                     f"PostgreSQL with pgvector that `make run` sets up under var/.",
                id="sandbox.E001"))
    return errors
