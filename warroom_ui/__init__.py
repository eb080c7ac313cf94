"""The war-room map in the browser: static pages that talk to the API over HTTP only."""
