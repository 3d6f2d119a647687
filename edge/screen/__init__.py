"""The visitor screen and voice: a local page and spoken prompts for what the gate decided."""
