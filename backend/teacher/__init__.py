"""Teacher generation: backends, prompts per mode, parsing and the generation job."""
