"""Domain logic: importers, answer checking, teachers, students, jobs. Imports db, never webapp."""
