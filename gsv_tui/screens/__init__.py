"""One screen per file: the five mode screens plus the modal screens (help, project, confirm)."""
