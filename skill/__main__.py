"""`python -m skill` is the same as the `stretch-coach` command."""

from skill.cli.main import main

raise SystemExit(main())
