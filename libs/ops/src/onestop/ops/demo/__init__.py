"""The demo: traffic that plays the acceptance stories, and a back-office system that works hand-offs."""
