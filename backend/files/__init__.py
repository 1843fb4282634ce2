"""Files a user names or downloads: paths confined below configured roots, and size-capped, short-lived
download files.
"""
