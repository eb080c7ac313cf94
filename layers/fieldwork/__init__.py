"""Officers at work on site: check-ins at features, and writes a phone may send twice."""
