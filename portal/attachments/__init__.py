"""Files attached to a referral: checked by content, stored outside static/, served as downloads."""
