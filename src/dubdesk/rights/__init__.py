"""Rights before generation: the rights holder's clearance of a title, and the rights status of every input."""
