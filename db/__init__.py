"""Storage layer: SQLModel tables, engine, migrations and queries. Imports nothing from backend or webapp."""
