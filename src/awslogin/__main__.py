"""`python -m awslogin` runs the command line."""

from awslogin.cli import main

raise SystemExit(main())
