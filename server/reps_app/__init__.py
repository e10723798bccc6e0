"""`/app/`: the reps' offline progressive web app (built from `clients/app/`)."""
