"""Templates (Django, Jinja2): read without running them (ir.py, django_syntax.py, jinja_syntax.py),
found from the views that render them, and evaluated with the values those views pass."""
