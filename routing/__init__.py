"""Route planning: travel matrices, which customers are due, and the VROOM solver.

No Flask here: the server calls these functions and stores their results.
"""
