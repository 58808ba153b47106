"""Prior authorization of a referral's treatment (DOMAIN.md "Prior authorization and
billing"): the payer's status, number, approved units and dates for SPRAVATO, the summary PDF
the payer asks for, the warnings when dates or units run short; a self-pay agreement for IV
ketamine instead."""

from flask import Blueprint

bp = Blueprint("authorizations", __name__, url_prefix="/authorizations")
