"""Clinics and referring practices."""
