"""User interfaces: the Gradio web app and the `socratic-studio` command line. Imports backend and db."""
