"""Flask extensions, created unbound; create_app() binds them."""

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from portal.db import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
# Per client address; storage from RATELIMIT_STORAGE_URI (Redis when REDIS_URL is set).
# No default limit: routes opt in, e.g. @limiter.limit(auth_rate_limit, methods=["POST"]).
limiter = Limiter(key_func=get_remote_address)


def auth_rate_limit() -> str:
    """The limit for sign-in, two-step codes and letter verification, read per request so
    tests and deployments can set AUTH_RATE_LIMIT."""
    return current_app.config["AUTH_RATE_LIMIT"]
