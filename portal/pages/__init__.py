"""Page compositions that gather several features: the referral page and the referrer's
dashboard, the intake (sending a referral: portal.pages.submission) and the message thread,
whose refusal shows the referral page again. They sit above the features: features never
import from here. Their routes stay on the features' blueprints (referrals, messages)."""
