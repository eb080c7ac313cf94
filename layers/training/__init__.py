"""Security training for units (内保教培): courses, quizzes, plans, learning, certificates."""
