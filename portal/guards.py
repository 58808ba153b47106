"""The one role guard. Deny by default: a user without one of the roles gets 404, as for an
object they may not see, so a page's existence is not confirmed to those who may not use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, TypeVar

from flask import abort
from flask_login import current_user

from portal.roles import Role

if TYPE_CHECKING:
    from flask import Blueprint

F = TypeVar("F", bound=Callable)


def has_role(*roles: Role) -> bool:
    """Whether the signed-in user holds one of `roles`."""
    return current_user.is_authenticated and current_user.role in roles


def check_roles(*roles: Role) -> None:
    """404 unless the signed-in user holds one of `roles`."""
    if not has_role(*roles):
        abort(404)


def require_roles(*roles: Role) -> Callable[[F], F]:
    """Decorate a view: only users holding one of `roles` reach it."""

    def decorator(view: F) -> F:
        @wraps(view)
        def guarded(*args, **kwargs):
            check_roles(*roles)
            return view(*args, **kwargs)

        guarded.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorator


def restrict_blueprint(bp: Blueprint, *roles: Role) -> None:
    """Every route of `bp` is for users holding one of `roles` (checked before the view)."""
    bp.before_request(lambda: check_roles(*roles))
