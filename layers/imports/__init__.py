"""Import jobs: bulk loads started over the API and run in the background."""
