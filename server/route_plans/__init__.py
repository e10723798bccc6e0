"""`/api/v1/route-plans`: reps' day, team and week plans from stored data, solved by `routing`."""
