"""Route planning on stored data: the bridge between the database and `routing`."""
