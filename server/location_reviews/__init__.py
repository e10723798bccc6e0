"""Customer locations a rep proposed, for a manager to approve or reject."""
