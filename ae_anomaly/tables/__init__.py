"""Tables in and out: formats, chunked reading, atomic writing, column schemas."""
