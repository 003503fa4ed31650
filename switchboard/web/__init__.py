"""The pages a person uses (wallboard, agent desktop, customer chat) and their static files."""
