"""Flask-Migrate (and Alembic under it, ~200 ms of imports) loaded only when something uses
it: `flask db ...`, the tests' upgrade, the readiness probe's head check. The web process
serving pages never does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy


class LazyMigrate:
    """Stands in app.extensions["migrate"]: on first use it sets Flask-Migrate up for real
    (which replaces this object there) and answers from the real one."""

    def __init__(self, app: Flask, db: SQLAlchemy, **options: Any) -> None:
        self._app, self._db, self._options = app, db, options

    def load(self) -> Any:
        from flask_migrate import Migrate

        Migrate(self._app, self._db, **self._options)
        return self._app.extensions["migrate"]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.load(), name)


class LazyDbGroup(click.Group):
    """`flask db`: Flask-Migrate's command group, imported when the group is used (its own
    context then parses the group's options and runs it)."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return self._real().make_context(info_name, args, parent=parent, **extra)

    @staticmethod
    def _real() -> click.Group:
        from flask_migrate.cli import db

        return db

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


def init_app(app: Flask, db: SQLAlchemy, **options: Any) -> None:
    app.extensions["migrate"] = LazyMigrate(app, db, **options)
    app.cli.add_command(LazyDbGroup("db", help="Perform database migrations."))
