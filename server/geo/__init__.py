"""`/api/v1/geo`: GeoJSON of territories, customers, reps and routes for the managers' map."""
