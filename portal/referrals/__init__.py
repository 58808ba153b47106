"""Referrals: intake, the closed-loop state machine and the shared timeline."""
