"""Print an environment for `make serve` on this machine (local PostgreSQL and Redis, fresh
keys): serve_env.py [PORT] > instance/serve.env. The keys open the data: keep the file (mode
0600) as long as the database, and use a secret store, not a file, in a real deployment."""

from __future__ import annotations

import base64
import secrets
import sys

from cryptography.fernet import Fernet


def main(port: str = "8000") -> None:
    audit = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    print(f"SECRET_KEY={secrets.token_urlsafe(48)}")
    print(f"PORTAL_DATA_KEYS={Fernet.generate_key().decode()}")
    print(f"AUDIT_KEYS=k1:{audit}")
    print("DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal")
    print("REDIS_URL=redis://127.0.0.1:6379/0")
    print(f"PORT={port}")
    print(f"PUBLIC_BASE_URL=http://127.0.0.1:{port}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
