"""Routes of R4 Subscriptions: create, read, search and delete the client's rest-hooks
(portal/fhir/subscriptions.py). Scopes: system/Subscription.c, .r, .s, .d."""

from __future__ import annotations

from portal.extensions import db
from portal.fhir import bp, resources, subscriptions
from portal.fhir.access import require
from portal.fhir.views import answer, json_body


@bp.post("/Subscription")
def subscription_create():
    require("Subscription", "c")
    subscription = subscriptions.create(json_body())
    db.session.commit()
    return answer(
        subscriptions.resource(subscription), 201, Location=f"Subscription/{subscription.id}"
    )


@bp.get("/Subscription/<subscription_id>")
def subscription_read(subscription_id: str):
    require("Subscription", "r")
    subscription = subscriptions.get_or_404(subscription_id)
    db.session.commit()
    return answer(subscriptions.resource(subscription))


@bp.get("/Subscription")
def subscription_search():
    require("Subscription", "s")
    found = list(db.session.scalars(subscriptions.visible().order_by("id")))
    db.session.commit()
    base = f"{resources.base_url()}/Subscription"
    return answer(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "link": [{"relation": "self", "url": base}],
            "entry": [
                {
                    "fullUrl": f"{base}/{s.id}",
                    "resource": subscriptions.resource(s),
                    "search": {"mode": "match"},
                }
                for s in found
            ],
        }
    )


@bp.delete("/Subscription/<subscription_id>")
def subscription_delete(subscription_id: str):
    require("Subscription", "d")
    subscriptions.delete(subscriptions.get_or_404(subscription_id))
    db.session.commit()
    return ("", 204)
