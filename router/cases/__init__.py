"""Cases, SLA timers, emotion escalation and outgoing webhooks (issue 23)."""
