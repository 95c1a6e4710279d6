"""Alembic's environment, run programmatically by ``Index.migrate()`` (no alembic.ini).

``Index.migrate()`` passes its open connection in ``config.attributes["connection"]``; the
``alembic`` command line can still be used with ``-x url=…`` for a one-off.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from evn_notebook_service.index.schema import metadata

config = context.config


def run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the index URL: alembic -x url=sqlite:///… upgrade head")
    with create_engine(url).connect() as conn:
        run(conn)
        conn.commit()
