"""The coordinators' queue and their decisions on referrals."""
