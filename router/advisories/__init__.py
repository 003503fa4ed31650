"""Disruption advisories: warn affected customers first, recognise them, staff ahead."""
