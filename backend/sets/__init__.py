"""Curated sets: building and freezing them, previewing a selection, and exporting frozen records to
training and step-label formats. Imports db.
"""
