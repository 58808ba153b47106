"""Accounts for referring providers: invitations, requests and the provider profile."""
