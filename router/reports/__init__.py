"""Contact records and what is read from them: reports, surveys, privacy, history."""
