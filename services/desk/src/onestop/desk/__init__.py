"""The desk: the web front end council staff sign in to and work cases in."""
