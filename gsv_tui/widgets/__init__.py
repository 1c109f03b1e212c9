"""One widget per file; widgets know nothing about the backend beyond the values they show."""
