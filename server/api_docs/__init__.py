"""`/api/docs`: Swagger UI's files, served from the package so the docs work offline."""
