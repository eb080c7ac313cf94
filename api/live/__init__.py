"""The live event stream: one listener per worker fanning events out to its clients."""
