"""Scheduling a treatment series: protocol templates, appointments, the day view, the .ics feed."""
