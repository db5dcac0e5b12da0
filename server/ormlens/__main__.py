from ormlens.cli import main

raise SystemExit(main())
