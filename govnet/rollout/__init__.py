"""Rollouts: plan, apply in waves, verify, resume, roll back."""
