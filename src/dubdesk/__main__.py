"""`python -m dubdesk`: the command line (see cli/)."""
from .cli import main

main()
