"""Page compositions that gather several features (the referral page, the referrer's
dashboard). They sit above the features: features never import from here."""
