"""The public page where anyone holding a letter checks it is genuine and current.

It shows the clinic, date, kind, version, sha256 and whether a later version replaced it;
never the patient, the referrer or the letter's content. The lead applies the rate limit
(Flask-Limiter, added on another branch) to `verify.letter` and `verify.lookup` at merge.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from portal.audit.service import record
from portal.extensions import auth_rate_limit, db, limiter
from portal.letters import verify_bp as bp
from portal.letters.codes import normalise
from portal.letters.queries import verification


@bp.get("/")
@limiter.limit(auth_rate_limit)
def lookup():
    typed = request.args.get("code", "")
    if typed:
        code = normalise(typed)
        if code:
            return redirect(url_for("verify.letter", code=code))
        return render_template("letters/verify.html", result=None, typed=typed, status="bad"), 404
    return render_template("letters/verify.html", result=None, typed="", status="ask")


@bp.get("/<code>")
@limiter.limit(auth_rate_limit)
def letter(code: str):
    normal = normalise(code)
    result = verification(normal) if normal else None
    record(
        "letter.verify",
        "letter",
        result["letter_id"] if result else None,
        outcome="ok" if result else "denied",
    )
    db.session.commit()
    if result is None:
        return render_template(
            "letters/verify.html", result=None, typed=code[:20], status="unknown"
        ), 404
    return render_template("letters/verify.html", result=result, typed=code, status="found")
