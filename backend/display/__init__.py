"""Text as people read it: secrets masked in URLs, database failures as one sentence, untrusted text made
inert for Markdown.
"""
